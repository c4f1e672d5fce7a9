/* hx_tls.h — certificates for mutual TLS in the lab, made with OpenSSL: one
 * run CA, a server+client certificate per node (its lab IP as subject
 * alternative name) and a client certificate for the harness. */
#ifndef HX_TLS_H
#define HX_TLS_H

#include <stddef.h>

#define HX_TLS_PATH 4096

/* Paths of one identity's PEM files. */
struct hx_tls_ident {
	char cert[HX_TLS_PATH];
	char key[HX_TLS_PATH];
};

/* Create dir (0700) with ca.pem/ca.key, <name>.pem/<name>.key for each of
 * names[0..n-1] (certificate for ips[i]: SAN IP:ips[i] and DNS:names[i],
 * usable as TLS server and client) and client.pem/client.key (the harness,
 * client only). ECDSA P-256, valid from an hour ago for 7 days. ca receives
 * the CA certificate path; node[i] and client the identities (all may be
 * NULL). Returns 0, or -1 with err naming the step and the OpenSSL error.
 * Blocks (key generation: a few ms per key). */
int hx_tls_make(const char *dir, const char *const *names, const char *const *ips, unsigned n,
                char *ca, size_t calen, struct hx_tls_ident *node, struct hx_tls_ident *client,
                char *err, size_t errlen);

#endif
