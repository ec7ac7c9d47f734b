/*
** sign: ECDSA P-256 / SHA-256 keys and signatures on OpenSSL's libcrypto, in
** the forms sigstore/cosign and containers/image use: PEM files (PKCS#8
** private keys, plain or encrypted with a password; SubjectPublicKeyInfo
** public keys; cosign's "ENCRYPTED SIGSTORE PRIVATE KEY", see cosignkey.h) and
** ASN.1 DER signatures over the SHA-256 of a payload.
**
** Errors: HOIST_ENOENT (no key in the text), HOIST_EAUTH (a password is
** needed, or it is wrong), HOIST_EINVAL (a key of another kind: RSA, another
** curve, a public key where a private one is needed, or the reverse).
** Passwords are never copied into messages.
*/
#ifndef HOIST_SIGN_H
#define HOIST_SIGN_H

#include "err.h"

#include <stddef.h>

struct hoist_key;

/* A new P-256 private key. */
int hoist_key_generate(struct hoist_key **out, struct hoist_err *err);

/*
** A private key from PEM text. password (pwlen bytes; NULL when none was given)
** opens encrypted keys. what names the key in messages (a path).
*/
int hoist_key_load_private(const char *pem, size_t len, const char *password, size_t pwlen,
                           const char *what, struct hoist_key **out, struct hoist_err *err);

/* A public key from PEM text ("PUBLIC KEY"). */
int hoist_key_load_public(const char *pem, size_t len, const char *what, struct hoist_key **out,
                          struct hoist_err *err);

/* 1 when the key holds its private half. */
int hoist_key_is_private(const struct hoist_key *k);

/*
** The private key as PEM: PKCS#8 "PRIVATE KEY", or "ENCRYPTED PRIVATE KEY"
** (PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC) when password is not NULL.
** *out is NUL-terminated; free() it.
*/
int hoist_key_private_pem(const struct hoist_key *k, const char *password, size_t pwlen,
                          char **out, size_t *outlen, struct hoist_err *err);

/*
** The private key in cosign's format ("ENCRYPTED SIGSTORE PRIVATE KEY", see
** cosignkey.h), sealed with password (may be empty, as cosign allows).
*/
int hoist_key_cosign_pem(const struct hoist_key *k, const char *password, size_t pwlen,
                         char **out, size_t *outlen, struct hoist_err *err);

/* The public half as PEM "PUBLIC KEY" (SubjectPublicKeyInfo). */
int hoist_key_public_pem(const struct hoist_key *k, char **out, size_t *outlen,
                         struct hoist_err *err);

/* "sha256:<hex>" of the public key's DER: a name for the key that holds no secret. */
int hoist_key_id(const struct hoist_key *k, char out[72], struct hoist_err *err);

/* ECDSA over SHA-256(data); *sig is the ASN.1 DER signature (free() it). */
int hoist_key_sign(const struct hoist_key *k, const void *data, size_t len, unsigned char **sig,
                   size_t *siglen, struct hoist_err *err);

/*
** 0 when sig is a valid signature of data by k (private or public), HOIST_EINVAL
** when it is not (including a malformed signature), another code on failure.
*/
int hoist_key_verify(const struct hoist_key *k, const void *data, size_t len,
                     const unsigned char *sig, size_t siglen, struct hoist_err *err);

void hoist_key_free(struct hoist_key *k);

#endif
