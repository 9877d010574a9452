// Stands in for Handle.Net's X.509 certificate generator, which needs BouncyCastle's PKIX classes: the trust classes
// the tests compile reach it only through the TLS key manager of Handle.Net's resolver, which the tests never start.
package net.handle.util;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;

public class X509HSCertificateGenerator {
    public static X509Certificate generate(String handle, PublicKey pubKey, PrivateKey privKey) throws Exception {
        throw new UnsupportedOperationException("TLS certificates are not generated in the tests");
    }
}
