/* hx_tls.c — a private CA and per-node certificates for mutual TLS. */
#include "harness/hx_tls.h"
#include "harness/hx_util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int ossl_fail(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];
	ERR_error_string_n(e, buf, sizeof buf);
	hx_fmt(err, errlen, "tls: %s: %s", what, e ? buf : "failed");
	ERR_clear_error();
	return -1;
}

static EVP_PKEY *new_key(void)
{
	return EVP_EC_gen("P-256");
}

static int write_pem(const char *path, EVP_PKEY *key, X509 *cert, char *err, size_t errlen)
{
	/* Keys are private to the run: created 0600 before anything is written. */
	FILE *f = NULL;
	int rc = -1;
	if (key) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		f = fd >= 0 ? fdopen(fd, "w") : NULL;
	} else {
		f = fopen(path, "w");
	}
	if (!f) {
		hx_fmt(err, errlen, "tls: write %s: %s", path, strerror(errno));
		return -1;
	}
	if (key && !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL))
		ossl_fail(err, errlen, path);
	else if (cert && !PEM_write_X509(f, cert))
		ossl_fail(err, errlen, path);
	else
		rc = 0;
	if (fclose(f) != 0 && rc == 0) {
		hx_fmt(err, errlen, "tls: write %s: %s", path, strerror(errno));
		rc = -1;
	}
	return rc;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -1;
	int ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

/* A certificate for key, signed by (issuer, issuer_key), or self-signed when
 * issuer is NULL. san may be NULL; usage: "ca", "server+client", "client". */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       const char *san, const char *usage)
{
	X509 *c = X509_new();
	if (!c)
		return NULL;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn = NULL;
	if (RAND_bytes(serial, sizeof serial) != 1)
		goto fail;
	serial[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	if (!sn || !X509_set_version(c, 2) || !X509_set_serialNumber(c, sn))
		goto fail;
	X509_gmtime_adj(X509_getm_notBefore(c), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c), 7L * 24 * 3600);
	X509_NAME *name = X509_get_subject_name(c);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"rapat", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	if (!X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name) ||
	    !X509_set_pubkey(c, key))
		goto fail;
	X509 *iss = issuer ? issuer : c;
	if (!strcmp(usage, "ca")) {
		if (add_ext(c, iss, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
		    add_ext(c, iss, NID_key_usage, "critical,keyCertSign,cRLSign"))
			goto fail;
	} else {
		if (add_ext(c, iss, NID_basic_constraints, "critical,CA:FALSE") ||
		    add_ext(c, iss, NID_key_usage, "critical,digitalSignature,keyAgreement") ||
		    add_ext(c, iss, NID_ext_key_usage,
		            !strcmp(usage, "client") ? "clientAuth" : "serverAuth,clientAuth"))
			goto fail;
	}
	if (add_ext(c, iss, NID_subject_key_identifier, "hash") ||
	    (issuer && add_ext(c, iss, NID_authority_key_identifier, "keyid:always")))
		goto fail;
	if (san && add_ext(c, iss, NID_subject_alt_name, san))
		goto fail;
	if (!X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()))
		goto fail;
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return c;
fail:
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	X509_free(c);
	return NULL;
}

/* Makes key + cert for one identity and writes them as dir/name.{pem,key}. */
static int make_ident(const char *dir, const char *name, const char *san, const char *usage,
                      X509 *ca, EVP_PKEY *ca_key, struct hx_tls_ident *out, char *err, size_t errlen)
{
	struct hx_tls_ident id;
	hx_fmt(id.cert, sizeof id.cert, "%s/%s.pem", dir, name);
	hx_fmt(id.key, sizeof id.key, "%s/%s.key", dir, name);
	EVP_PKEY *key = new_key();
	X509 *cert = key ? make_cert(key, name, ca, ca_key, san, usage) : NULL;
	int rc = -1;
	if (!cert)
		ossl_fail(err, errlen, name);
	else if (write_pem(id.key, key, NULL, err, errlen) == 0 &&
	         write_pem(id.cert, NULL, cert, err, errlen) == 0)
		rc = 0;
	X509_free(cert);
	EVP_PKEY_free(key);
	if (rc == 0 && out)
		*out = id;
	return rc;
}

int hx_tls_make(const char *dir, const char *const *names, const char *const *ips, unsigned n,
                char *ca_path, size_t calen, struct hx_tls_ident *node, struct hx_tls_ident *client,
                char *err, size_t errlen)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		hx_fmt(err, errlen, "tls: mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	int rc = -1;
	EVP_PKEY *ca_key = new_key();
	X509 *ca = ca_key ? make_cert(ca_key, "rapat run CA", NULL, NULL, NULL, "ca") : NULL;
	char p[HX_TLS_PATH + 16];
	if (!ca) {
		ossl_fail(err, errlen, "CA");
		goto out;
	}
	hx_fmt(p, sizeof p, "%s/ca.key", dir);
	if (write_pem(p, ca_key, NULL, err, errlen) != 0)
		goto out;
	hx_fmt(p, sizeof p, "%s/ca.pem", dir);
	if (write_pem(p, NULL, ca, err, errlen) != 0)
		goto out;
	if (ca_path)
		hx_fmt(ca_path, calen, "%s", p);
	for (unsigned i = 0; i < n; i++) {
		char san[128];
		hx_fmt(san, sizeof san, "IP:%s,DNS:%s", ips[i], names[i]);
		if (make_ident(dir, names[i], san, "server+client", ca, ca_key, node ? &node[i] : NULL, err,
		               errlen) != 0)
			goto out;
	}
	if (make_ident(dir, "client", NULL, "client", ca, ca_key, client, err, errlen) != 0)
		goto out;
	rc = 0;
out:
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return rc;
}
