/*
 * dtls_int.h - what dtls.c and dtls_cert.c share: the certificate of the
 * process and the digests of certificates (RFC 8122 5).
 */
#ifndef SIPGUARD_MEDIA_DTLS_INT_H
#define SIPGUARD_MEDIA_DTLS_INT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "media/dtls.h"

/* A fresh self-signed ECDSA P-256 certificate (CN=sipguard, 1 year).
 * Returns 0 or -EIO; the caller owns *keyp and *certp. */
int dtls__cert_generate(EVP_PKEY **keyp, X509 **certp);
/* PEM certificate and private key from files; the key must match the
 * certificate.  Returns 0, -EINVAL (unreadable, mismatched) or -EIO. */
int dtls__cert_load(EVP_PKEY **keyp, X509 **certp, const char *cert_file,
		    const char *key_file);
/* Digest of the DER certificate with hash h into *fpp.  0 or -EINVAL. */
int dtls__cert_digest(struct sdp_dtls_fp *fpp, X509 *x, enum sdp_dtls_hash h);

#endif
