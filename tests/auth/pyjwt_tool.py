#!/usr/bin/env python3
"""PyJWT (Debian's python3-jwt) as the independent implementation the auth tests compare with.

  pyjwt_tool.py verify ALG KEYFILE TOKEN ISSUER AUDIENCE   -> prints the claims as JSON
  pyjwt_tool.py sign   ALG KEYFILE KID CLAIMS_JSON         -> prints the token
KEYFILE holds the HS256 secret, or an Ed25519 PEM key (public to verify, private to sign).
"""
import json
import sys

import jwt


def main():
    mode, alg, keyfile = sys.argv[1:4]
    with open(keyfile, "rb") as f:
        key = f.read()
    if mode == "verify":
        token, issuer, audience = sys.argv[4:7]
        claims = jwt.decode(token, key, algorithms=[alg], issuer=issuer, audience=audience,
                            options={"require": ["exp", "iat", "sub"]})
        print(json.dumps(claims, sort_keys=True))
    elif mode == "sign":
        kid, claims = sys.argv[4], json.loads(sys.argv[5])
        print(jwt.encode(claims, key, algorithm=alg, headers={"kid": kid}))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
