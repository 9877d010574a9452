{{/*
Chart name, truncated to 63 characters (the DNS label limit of Kubernetes names).
*/}}
{{- define "secnode.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name "<release>-<chart>", or the release name alone when it already contains the chart name. Truncated to 52
characters so that suffixes such as "-sync-reporter" keep names within 63.
*/}}
{{- define "secnode.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "secnode.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "secnode.labels" -}}
helm.sh/chart: {{ include "secnode.chart" . }}
{{ include "secnode.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: secnode
{{- end }}

{{/*
Labels that select the release's pods; a component label ("api", "sync-reporter", "migration") narrows them.
*/}}
{{- define "secnode.selectorLabels" -}}
app.kubernetes.io/name: {{ include "secnode.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "secnode.apiSelectorLabels" -}}
{{ include "secnode.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{- define "secnode.reporterSelectorLabels" -}}
{{ include "secnode.selectorLabels" . }}
app.kubernetes.io/component: sync-reporter
{{- end }}

{{- define "secnode.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "secnode.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "secnode.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Name of the Secret holding the database and Redis URLs: the operator's, or the chart's own.
*/}}
{{- define "secnode.secretName" -}}
{{- default (include "secnode.fullname" .) .Values.existingSecret }}
{{- end }}

{{/*
Keys of the secret settings inside the Secret, as JSON: the operator's names with existingSecret, else the
chart's own names for the settings that are set. An empty key means the setting is not given.
*/}}
{{- define "secnode.secretKeys" -}}
{{- if .Values.existingSecret }}
{{- toJson .Values.existingSecretKeys }}
{{- else }}
{{- toJson (dict
  "databaseUrl" "database-url"
  "databaseReadUrl" (ternary "database-read-url" "" (not (empty .Values.database.readUrl)))
  "redisUrl" (ternary "redis-url" "" (not (empty .Values.redis.url)))
  "bootstrapAdminPassword" (ternary "bootstrap-admin-password" "" (not (empty .Values.bootstrapAdminPassword)))) }}
{{- end }}
{{- end }}

{{/*
Whether Redis is configured (needed by more than one API process): "true" or empty.
*/}}
{{- define "secnode.hasRedis" -}}
{{- if (include "secnode.secretKeys" . | fromJson).redisUrl }}true{{ end }}
{{- end }}

{{/*
SECNODE_PUBLIC_URL: the configured one, else derived from the first ingress host.
*/}}
{{- define "secnode.publicUrl" -}}
{{- if .Values.config.publicUrl }}
{{- .Values.config.publicUrl }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- $host := (first .Values.ingress.hosts).host }}
{{- printf "%s://%s" (ternary "https" "http" (gt (len .Values.ingress.tls) 0)) $host }}
{{- end }}
{{- end }}

{{/*
Where the node key file is: the mounted Secret, or a throw-away key in /tmp (standalone only).
*/}}
{{- define "secnode.nodeKeyFile" -}}
{{- if .Values.nodeKey.existingSecret }}
{{- printf "/etc/secnode/node-key/%s" .Values.nodeKey.key }}
{{- else }}
{{- print "/tmp/secnode-node.key" }}
{{- end }}
{{- end }}

{{/*
Checks of combinations the schema cannot express. Included by every workload template.
*/}}
{{- define "secnode.validate" -}}
{{- $processes := int .Values.api.workers }}
{{- if or .Values.autoscaling.enabled (gt (int .Values.api.replicaCount) 1) (gt $processes 1) }}
{{- if not (include "secnode.hasRedis" .) }}
{{- fail "more than one API process (api.replicaCount, api.workers or autoscaling) needs Redis: set redis.url, or existingSecretKeys.redisUrl with existingSecret" }}
{{- end }}
{{- end }}
{{- if .Values.upstream.url }}
{{- if not .Values.nodeKey.existingSecret }}
{{- fail "upstream.url needs nodeKey.existingSecret: the top-level node pins the node's key, so it must survive pod restarts" }}
{{- end }}
{{- if not (include "secnode.publicUrl" .) }}
{{- fail "upstream.url needs config.publicUrl (or an enabled ingress): the top-level node tells other nodes where this one is" }}
{{- end }}
{{- end }}
{{- if and .Values.existingSecret (not .Values.existingSecretKeys.databaseUrl) }}
{{- fail "existingSecret needs existingSecretKeys.databaseUrl" }}
{{- end }}
{{- if and (not .Values.existingSecret) (not .Values.database.url) }}
{{- fail "set database.url (or existingSecret)" }}
{{- end }}
{{- if .Values.podDisruptionBudget.enabled }}
{{- if not (or .Values.podDisruptionBudget.minAvailable .Values.podDisruptionBudget.maxUnavailable) }}
{{- fail "podDisruptionBudget needs minAvailable or maxUnavailable" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The secret settings as env entries, one by one (so that the keys of an operator-made Secret may have any
name); the other settings come from the ConfigMap.
*/}}
{{- define "secnode.secretEnv" -}}
{{- $secret := include "secnode.secretName" . }}
{{- $keys := include "secnode.secretKeys" . | fromJson }}
{{- range $name, $key := dict "SECNODE_DATABASE_URL" $keys.databaseUrl "SECNODE_DATABASE_READ_URL" $keys.databaseReadUrl "SECNODE_REDIS_URL" $keys.redisUrl "SECNODE_BOOTSTRAP_ADMIN_PASSWORD" $keys.bootstrapAdminPassword }}
{{- if $key }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Volumes shared by the API and reporter pods: a writable /tmp, and the node key when one is given.
*/}}
{{- define "secnode.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- if .Values.nodeKey.existingSecret }}
- name: node-key
  secret:
    secretName: {{ .Values.nodeKey.existingSecret }}
    # Readable by the pod's group (fsGroup) only: the container runs as a non-root user that owns nothing.
    defaultMode: 0440
    items:
      - key: {{ .Values.nodeKey.key }}
        path: {{ .Values.nodeKey.key }}
{{- end }}
{{- end }}

{{- define "secnode.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.nodeKey.existingSecret }}
- name: node-key
  mountPath: /etc/secnode/node-key
  readOnly: true
{{- end }}
{{- end }}

{{/*
Pod scheduling fields of one component: include with (dict "values" .Values.api "root" .).
*/}}
{{- define "secnode.scheduling" -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Egress rules of every pod: DNS, PostgreSQL, Redis, the upstream ports (when given), and extra rules.
include with (dict "root" . "upstreamPorts" list-of-ports).
*/}}
{{- define "secnode.egressRules" -}}
{{- $egress := .root.Values.networkPolicy.egress -}}
# DNS
- ports:
    {{- range $egress.dns.ports }}
    - port: {{ . }}
      protocol: UDP
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with $egress.dns.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
# PostgreSQL (primary and read replica)
- ports:
    {{- range $egress.postgresql.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with $egress.postgresql.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
# Redis
- ports:
    {{- range $egress.redis.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with $egress.redis.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- if .upstreamPorts }}
# The top-level node and other secondary nodes
- ports:
    {{- range .upstreamPorts }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with $egress.upstream.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- with .root.Values.networkPolicy.extraEgress }}
{{ toYaml . }}
{{- end }}
{{- end }}
