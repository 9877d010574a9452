// Handle.Net 9's own trust classes (net.handle.hdllib.trust) as an independent verifier and signer for the tests:
// compiled from Handle.Net's source by tests/trust/handle_net.py. Reads one JSON request on stdin, writes one JSON
// answer on stdout. Values travel as base64 of Handle's binary value encoding and are decoded by Handle.Net's Encoder.
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.handle.hdllib.Encoder;
import net.handle.hdllib.HandleRecord;
import net.handle.hdllib.HandleValue;
import net.handle.hdllib.ValueReference;
import net.handle.hdllib.trust.ChainBuilder;
import net.handle.hdllib.trust.ChainVerificationReport;
import net.handle.hdllib.trust.ChainVerifier;
import net.handle.hdllib.trust.HandleRecordTrustVerificationReport;
import net.handle.hdllib.trust.HandleRecordTrustVerifier;
import net.handle.hdllib.trust.HandleSigner;
import net.handle.hdllib.trust.IssuedSignatureVerificationReport;
import net.handle.hdllib.trust.JsonWebSignature;

public class HandleTrustOracle {
    static List<HandleValue> values(JsonArray encoded) throws Exception {
        List<HandleValue> result = new ArrayList<>();
        for (JsonElement e : encoded) {
            byte[] raw = Base64.getDecoder().decode(e.getAsString());
            HandleValue value = new HandleValue();
            Encoder.decodeHandleValue(raw, 0, value);
            result.add(value);
        }
        return result;
    }

    static PublicKey spki(String base64) throws Exception {
        byte[] der = Base64.getDecoder().decode(base64);
        for (String alg : new String[] {"RSA", "EC", "DSA"}) {
            try {
                return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(der));
            } catch (Exception ignored) {
            }
        }
        throw new IllegalArgumentException("not an RSA, EC or DSA SubjectPublicKeyInfo");
    }

    static JsonObject verify(JsonObject request) throws Exception {
        String handle = request.get("handle").getAsString();
        Map<String, HandleRecord> records = new HashMap<>();
        for (Map.Entry<String, JsonElement> entry : request.getAsJsonObject("records").entrySet()) {
            records.put(entry.getKey(), new HandleRecord(entry.getKey(), values(entry.getValue().getAsJsonArray())));
        }
        List<PublicKey> roots = new ArrayList<>();
        for (JsonElement e : request.getAsJsonArray("roots")) roots.add(spki(e.getAsString()));
        HandleRecordTrustVerifier verifier = new HandleRecordTrustVerifier(new ChainBuilder(records, null), new ChainVerifier(roots));
        HandleRecordTrustVerificationReport report = verifier.validateHandleRecordReturnReport(new HandleRecord(handle, values(request.getAsJsonArray("values"))));
        JsonObject answer = new JsonObject();
        String error = report.getErrorMessage();
        answer.addProperty("error", error);
        answer.add("signedValues", new Gson().toJsonTree(report.signedValues));
        answer.add("unsignedValues", new Gson().toJsonTree(report.unsignedValues));
        JsonArray chains = new JsonArray();
        for (ChainVerificationReport chain : report.signatureReports) {
            JsonObject c = new JsonObject();
            c.addProperty("canTrustAndAuthorized", chain.canTrustAndAuthorized());
            c.addProperty("rootIsTrusted", chain.rootIsTrusted);
            c.addProperty("unableToBuildChain", chain.unableToBuildChain);
            JsonArray links = new JsonArray();
            if (chain.issuedSignatureVerificationReports != null) {
                for (IssuedSignatureVerificationReport link : chain.issuedSignatureVerificationReports) {
                    JsonObject l = new JsonObject();
                    l.addProperty("iss", link.iss);
                    l.addProperty("sub", link.sub);
                    l.addProperty("signatureVerifies", link.signatureVerifies);
                    l.addProperty("dateInRange", link.dateInRange);
                    l.addProperty("authorized", link.authorized);
                    links.add(l);
                }
            }
            c.add("links", links);
            chains.add(c);
        }
        answer.add("chains", chains);
        JsonArray problems = new JsonArray();
        for (Exception e : report.exceptions) problems.add(String.valueOf(e.getMessage()));
        answer.add("exceptions", problems);
        return answer;
    }

    static JsonObject sign(JsonObject request) throws Exception {
        byte[] der = Base64.getDecoder().decode(request.get("privateKey").getAsString());
        PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        List<String> chain = new ArrayList<>();
        for (JsonElement e : request.getAsJsonArray("chain")) chain.add(e.getAsString());
        long now = System.currentTimeMillis() / 1000L;
        long lifetime = request.get("lifetime").getAsLong();
        JsonWebSignature jws = HandleSigner.getInstance().signHandleValues(
            request.get("handle").getAsString(),
            values(request.getAsJsonArray("values")),
            ValueReference.fromString(request.get("signer").getAsString()),
            key,
            chain,
            now - 60,
            now + lifetime);
        JsonObject answer = new JsonObject();
        answer.addProperty("jws", jws.serialize());
        return answer;
    }

    public static void main(String[] args) throws Exception {
        JsonObject request = JsonParser.parseReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).getAsJsonObject();
        JsonObject answer = "sign".equals(args[0]) ? sign(request) : verify(request);
        System.out.println(answer);
    }
}
