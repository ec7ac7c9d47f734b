/*
** cosignkey: cosign's password-protected private key envelope, the body of a
** PEM block "ENCRYPTED SIGSTORE PRIVATE KEY" (older: "ENCRYPTED COSIGN PRIVATE
** KEY"). The body is JSON from secure-systems-lab's `encrypted` package:
**   {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":B64},
**    "cipher":{"name":"nacl/secretbox","nonce":B64},"ciphertext":B64}
** key = scrypt(password, salt, N, r, p, 32); plaintext = secretbox_open(
** ciphertext, nonce, key) = the PKCS#8 DER of the private key. scrypt comes
** from libcrypto; XSalsa20-Poly1305 (secretbox) from libsodium, which libcrypto
** lacks. This is the format skopeo's --sign-by-sigstore-private-key reads.
*/
#ifndef HOIST_COSIGNKEY_H
#define HOIST_COSIGNKEY_H

#include "err.h"

#include <stddef.h>

/* Opens the JSON envelope; *der (free() it after cleansing) is the PKCS#8 key. Wrong password: HOIST_EAUTH. */
int hoist_cosign_decrypt(const char *json, size_t len, const char *password, size_t pwlen,
                         unsigned char **der, size_t *derlen, struct hoist_err *err);

/* Seals der into a new JSON envelope (scrypt N=32768 r=8 p=1, random salt and nonce). */
int hoist_cosign_encrypt(const unsigned char *der, size_t derlen, const char *password,
                         size_t pwlen, char **json, size_t *jsonlen, struct hoist_err *err);

#endif
