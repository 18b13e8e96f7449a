/*
 * dtls_cert.c - the certificate a DTLS-SRTP endpoint presents, and the
 * certificate digests of a=fingerprint (RFC 5763 5, RFC 8122 5).
 *
 * DTLS-SRTP peers authenticate each other by the fingerprint carried in
 * the (signalling-protected) SDP, not by a CA, so a self-signed
 * certificate made at start-up is enough (RFC 5763 5 allows it and
 * browsers do the same).  ECDSA P-256 keeps the handshake flights small
 * (one datagram each below DTLS_MTU) and the signatures fast.
 */
#include "media/dtls_int.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

enum {
	CERT_DAYS = 365,
	CERT_BACKDATE_S = 86400, /* tolerate peers whose clock is behind */
};

static int fill_cert(X509 *x, EVP_PKEY *k)
{
	X509_NAME *name = X509_get_subject_name(x);
	uint64_t serial;

	if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
		return -EIO;
	/* A positive serial below 2^63 (RFC 5280 4.1.2.2). */
	serial = (serial & INT64_MAX) | 1;
	if (!X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -CERT_BACKDATE_S) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), CERT_DAYS * 86400L) ||
	    !name ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"sipguard", -1,
					-1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, k) ||
	    X509_sign(x, k, EVP_sha256()) <= 0)
		return -EIO;
	return 0;
}

int dtls__cert_generate(EVP_PKEY **keyp, X509 **certp)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();

	*keyp = NULL;
	*certp = NULL;
	if (!k || !x || fill_cert(x, k)) {
		EVP_PKEY_free(k);
		X509_free(x);
		return -EIO;
	}
	*keyp = k;
	*certp = x;
	return 0;
}

int dtls__cert_load(EVP_PKEY **keyp, X509 **certp, const char *cert_file,
		    const char *key_file)
{
	BIO *cb = cert_file ? BIO_new_file(cert_file, "r") : NULL;
	BIO *kb = key_file ? BIO_new_file(key_file, "r") : NULL;
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	int err = 0;

	*keyp = NULL;
	*certp = NULL;
	if (!x || !k || X509_check_private_key(x, k) != 1)
		err = -EINVAL;
	BIO_free(cb);
	BIO_free(kb);
	if (err) {
		X509_free(x);
		EVP_PKEY_free(k);
		return err;
	}
	*keyp = k;
	*certp = x;
	return 0;
}

static const EVP_MD *hash_md(enum sdp_dtls_hash h)
{
	switch (h) {
	case SDP_DTLS_HASH_SHA1:
		return EVP_sha1();
	case SDP_DTLS_HASH_SHA224:
		return EVP_sha224();
	case SDP_DTLS_HASH_SHA256:
		return EVP_sha256();
	case SDP_DTLS_HASH_SHA384:
		return EVP_sha384();
	case SDP_DTLS_HASH_SHA512:
		return EVP_sha512();
	case SDP_DTLS_HASH_NONE:
		break;
	}
	return NULL;
}

int dtls__cert_digest(struct sdp_dtls_fp *fpp, X509 *x, enum sdp_dtls_hash h)
{
	const EVP_MD *md = hash_md(h);
	unsigned int n = 0;

	memset(fpp, 0, sizeof(*fpp));
	if (!x || !md || EVP_MD_get_size(md) > SDP_DTLS_MD_MAX ||
	    X509_digest(x, md, fpp->md, &n) != 1 || n != sdp_dtls_hash_len(h))
		return -EINVAL;
	fpp->hash = h;
	fpp->len = (uint8_t)n;
	return 0;
}
