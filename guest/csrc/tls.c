/*
 * The TLS client of `maestro-guest wait https://...`: a thin layer over
 * BearSSL (guest/bearssl, see its README) that the Rust side (guest/src/tls.rs)
 * drives through a handful of functions. Only configuration lives here; every
 * cryptographic primitive, the TLS engine and the X.509 path validation are
 * BearSSL's.
 *
 * Profile, chosen for size (the static binary has a size budget) among what
 * every TLS 1.2 server offers: TLS 1.2 (the newest version BearSSL speaks),
 * ECDHE key exchange (curves P-256, P-384, P-521) with RSA or ECDSA server
 * keys, AES-128-GCM and AES-256-GCM; SHA-256/384/512 signatures (SHA-1 ones
 * are refused, as browsers do); the constant-time "i31", "ct64" and
 * "ctmul64" implementations. Certificate chains are validated against the
 * given trust anchors and the server name (br_x509_minimal). "Insecure" mode
 * replaces validation by a decoder that only takes the server's key out of
 * its certificate, as curl's --insecure does.
 */
#include <stdlib.h>
#include <string.h>

#include "bearssl.h"

/* Reads up to `len` bytes into `buf`: how many (> 0), or -1. */
typedef int (*mg_read_fn)(void *ctx, unsigned char *buf, size_t len);
/* Writes up to `len` bytes of `buf`: how many (> 0), or -1. */
typedef int (*mg_write_fn)(void *ctx, const unsigned char *buf, size_t len);

/* The X.509 class of insecure mode: the leaf's key, no validation. */
typedef struct {
	const br_x509_class *vtable;
	br_x509_decoder_context decoder;
	int leaf_done;
	int leaf_ok;
} mg_any_cert;

typedef struct {
	br_ssl_client_context client;
	br_x509_minimal_context minimal;
	mg_any_cert any;
	br_sslio_context io;
	unsigned char buffer[BR_SSL_BUFSIZE_BIDI];
	br_x509_trust_anchor *anchors;
	size_t anchor_count;
	size_t anchor_capacity;
} mg_tls;

static void
any_start_chain(const br_x509_class **ctx, const char *server_name)
{
	mg_any_cert *any = (mg_any_cert *)(void *)ctx;

	(void)server_name;
	br_x509_decoder_init(&any->decoder, 0, 0);
	any->leaf_done = 0;
	any->leaf_ok = 0;
}

static void
any_start_cert(const br_x509_class **ctx, uint32_t length)
{
	(void)ctx;
	(void)length;
}

static void
any_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	mg_any_cert *any = (mg_any_cert *)(void *)ctx;

	if (!any->leaf_done) {
		br_x509_decoder_push(&any->decoder, buf, len);
	}
}

static void
any_end_cert(const br_x509_class **ctx)
{
	mg_any_cert *any = (mg_any_cert *)(void *)ctx;

	if (!any->leaf_done) {
		any->leaf_done = 1;
		any->leaf_ok = br_x509_decoder_get_pkey(&any->decoder) != NULL;
	}
}

static unsigned
any_end_chain(const br_x509_class **ctx)
{
	mg_any_cert *any = (mg_any_cert *)(void *)ctx;

	if (any->leaf_ok) {
		return 0;
	}
	return any->leaf_done ? br_x509_decoder_last_error(&any->decoder)
		: BR_ERR_X509_EMPTY_CHAIN;
}

static const br_x509_pkey *
any_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	mg_any_cert *any = (mg_any_cert *)(void *)ctx;

	if (usages != NULL) {
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	}
	return any->leaf_ok ? br_x509_decoder_get_pkey(&any->decoder) : NULL;
}

static const br_x509_class any_vtable = {
	sizeof(mg_any_cert),
	any_start_chain,
	any_start_cert,
	any_append,
	any_end_cert,
	any_end_chain,
	any_get_pkey
};

/* A zeroed session; NULL when memory is short. */
mg_tls *
mg_tls_new(void)
{
	return calloc(1, sizeof(mg_tls));
}

static void
free_anchor(br_x509_trust_anchor *ta)
{
	free(ta->dn.data);
	if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
		free(ta->pkey.key.rsa.n);
		free(ta->pkey.key.rsa.e);
	} else {
		free(ta->pkey.key.ec.q);
	}
}

void
mg_tls_free(mg_tls *tls)
{
	size_t i;

	if (tls == NULL) {
		return;
	}
	for (i = 0; i < tls->anchor_count; i++) {
		free_anchor(&tls->anchors[i]);
	}
	free(tls->anchors);
	free(tls);
}

typedef struct {
	unsigned char *data;
	size_t len;
	int failed;
} mg_bytes;

static void
append_dn(void *ctx, const void *buf, size_t len)
{
	mg_bytes *dn = ctx;
	unsigned char *grown;

	if (dn->failed) {
		return;
	}
	grown = realloc(dn->data, dn->len + len);
	if (grown == NULL) {
		dn->failed = 1;
		return;
	}
	memcpy(grown + dn->len, buf, len);
	dn->data = grown;
	dn->len += len;
}

static unsigned char *
copy(const unsigned char *data, size_t len)
{
	unsigned char *out = malloc(len ? len : 1);

	if (out != NULL) {
		memcpy(out, data, len);
	}
	return out;
}

/*
 * Adds the DER certificate `der` as a trust anchor. Returns 0, or -1 when it
 * cannot be decoded (or has a key type BearSSL does not know), -2 when
 * memory is short.
 */
int
mg_tls_add_anchor(mg_tls *tls, const unsigned char *der, size_t len)
{
	br_x509_decoder_context dc;
	mg_bytes dn = { NULL, 0, 0 };
	const br_x509_pkey *pk;
	br_x509_trust_anchor ta;

	br_x509_decoder_init(&dc, append_dn, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL || dn.failed
		|| (pk->key_type != BR_KEYTYPE_RSA && pk->key_type != BR_KEYTYPE_EC))
	{
		free(dn.data);
		return dn.failed ? -2 : -1;
	}
	memset(&ta, 0, sizeof ta);
	ta.dn.data = dn.data;
	ta.dn.len = dn.len;
	ta.flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta.pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta.pkey.key.rsa.n = copy(pk->key.rsa.n, pk->key.rsa.nlen);
		ta.pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta.pkey.key.rsa.e = copy(pk->key.rsa.e, pk->key.rsa.elen);
		ta.pkey.key.rsa.elen = pk->key.rsa.elen;
		if (ta.pkey.key.rsa.n == NULL || ta.pkey.key.rsa.e == NULL) {
			free_anchor(&ta);
			return -2;
		}
	} else {
		ta.pkey.key.ec.curve = pk->key.ec.curve;
		ta.pkey.key.ec.q = copy(pk->key.ec.q, pk->key.ec.qlen);
		ta.pkey.key.ec.qlen = pk->key.ec.qlen;
		if (ta.pkey.key.ec.q == NULL) {
			free_anchor(&ta);
			return -2;
		}
	}
	if (tls->anchor_count == tls->anchor_capacity) {
		size_t capacity = tls->anchor_capacity ? 2 * tls->anchor_capacity : 64;
		br_x509_trust_anchor *grown = realloc(tls->anchors,
			capacity * sizeof *grown);

		if (grown == NULL) {
			free_anchor(&ta);
			return -2;
		}
		tls->anchors = grown;
		tls->anchor_capacity = capacity;
	}
	tls->anchors[tls->anchor_count++] = ta;
	return 0;
}

/*
 * Prepares the handshake with `server_name` (NUL-terminated; the name the
 * certificate must carry, also sent as SNI) over the `rd`/`wr` transport.
 * `seed` is fresh OS entropy. Returns 0, or -1 (see mg_tls_error).
 */
int
mg_tls_start(mg_tls *tls, const char *server_name, int insecure,
	const unsigned char *seed, size_t seed_len,
	mg_read_fn rd, void *rd_ctx, mg_write_fn wr, void *wr_ctx)
{
	static const uint16_t suites[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
	};
	static const struct {
		int id;
		const br_hash_class *impl;
	} hashes[] = {
		{ br_sha256_ID, &br_sha256_vtable },
		{ br_sha384_ID, &br_sha384_vtable },
		{ br_sha512_ID, &br_sha512_vtable }
	};
	br_ssl_client_context *cc = &tls->client;
	br_ssl_engine_context *eng = &cc->eng;
	br_x509_minimal_context *xc = &tls->minimal;
	size_t i;

	br_ssl_client_zero(cc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, sizeof suites / sizeof suites[0]);
	br_ssl_engine_set_ec(eng, &br_ec_prime_i31);
	br_ssl_engine_set_rsavrfy(eng, &br_rsa_i31_pkcs1_vrfy);
	br_ssl_engine_set_ecdsa(eng, &br_ecdsa_i31_vrfy_asn1);
	br_x509_minimal_init(xc, &br_sha256_vtable, tls->anchors,
		tls->anchor_count);
	br_x509_minimal_set_rsa(xc, &br_rsa_i31_pkcs1_vrfy);
	br_x509_minimal_set_ecdsa(xc, &br_ec_prime_i31, &br_ecdsa_i31_vrfy_asn1);
	for (i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
		br_ssl_engine_set_hash(eng, hashes[i].id, hashes[i].impl);
		br_x509_minimal_set_hash(xc, hashes[i].id, hashes[i].impl);
	}
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable,
		&br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_aes_ctr(eng, &br_aes_ct64_ctr_vtable);
	br_ssl_engine_set_ghash(eng, &br_ghash_ctmul64);
	if (insecure) {
		tls->any.vtable = &any_vtable;
		br_ssl_engine_set_x509(eng, &tls->any.vtable);
	} else {
		br_ssl_engine_set_x509(eng, &xc->vtable);
	}
	br_ssl_engine_set_buffer(eng, tls->buffer, sizeof tls->buffer, 1);
	br_ssl_engine_inject_entropy(eng, seed, seed_len);
	if (!br_ssl_client_reset(cc, server_name, 0)) {
		return -1;
	}
	br_sslio_init(&tls->io, eng, rd, rd_ctx, wr, wr_ctx);
	return 0;
}

/* Writes all of `data` and flushes it; 0 or -1. */
int
mg_tls_write(mg_tls *tls, const unsigned char *data, size_t len)
{
	if (br_sslio_write_all(&tls->io, data, len) < 0) {
		return -1;
	}
	return br_sslio_flush(&tls->io);
}

/* Reads up to `len` bytes: how many, or -1 (closed or failed). */
int
mg_tls_read(mg_tls *tls, unsigned char *data, size_t len)
{
	return br_sslio_read(&tls->io, data, len);
}

/* BearSSL's error code (BR_ERR_*), 0 when none. */
int
mg_tls_error(mg_tls *tls)
{
	return br_ssl_engine_last_error(&tls->client.eng);
}
