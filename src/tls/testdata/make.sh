#!/bin/sh
# Regenerates the TLS test fixtures (OpenSSL 3). Run from this directory: sh make.sh
# Every file is throwaway test material; the private keys protect nothing.
set -eu
rm -rf work && mkdir work
DAYS=36500   # about 100 years, so the fixtures do not expire under the tests

cat > work/ext.cnf <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
[server_ip]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
[client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
CNF

# The test CA and a second, untrusted one.
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days $DAYS -subj "/CN=tusk test CA" \
  -keyout ca.key -out ca.crt -extensions ca -config work/ext.cnf 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days $DAYS -subj "/CN=tusk other CA" \
  -keyout work/other-ca.key -out other-ca.crt -extensions ca -config work/ext.cnf 2>/dev/null

sign() { # name, extension section, digest, key algorithm options...
  name=$1; ext=$2; md=$3; shift 3
  openssl req -new -nodes "$@" -subj "/CN=$name" -keyout "$name.key" -out work/$name.csr 2>/dev/null
  openssl x509 -req -in work/$name.csr -CA ca.crt -CAkey ca.key -set_serial 0x$(openssl rand -hex 8) \
    -days $DAYS -$md -extfile work/ext.cnf -extensions $ext -out $name.crt 2>/dev/null
}
sign server server sha256 -newkey rsa:2048          # DNS:localhost, RSA, sha256WithRSAEncryption
sign server-ip server_ip sha256 -newkey rsa:2048    # IP:127.0.0.1
sign rsa-sha384 server sha384 -newkey rsa:2048
sign rsa-sha1 server sha1 -newkey rsa:2048
sign client client sha256 -newkey rsa:2048
sign client-ec client sha256 -newkey ec -pkeyopt ec_paramgen_curve:P-256

# The CA key is RSA, so an ECDSA-signed certificate needs an EC issuer: self-signed P-384.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -sha384 -days $DAYS \
  -subj "/CN=ec-p384" -keyout ec-p384-sha384.key -out ec-p384-sha384.crt \
  -extensions server -config work/ext.cnf 2>/dev/null
openssl req -x509 -newkey ed25519 -nodes -days $DAYS -subj "/CN=ed25519" \
  -keyout ed25519.key -out ed25519.crt -extensions server -config work/ext.cnf 2>/dev/null
# A self-signed localhost certificate (no CA).
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days $DAYS -subj "/CN=localhost" \
  -keyout selfsigned.key -out selfsigned.crt -extensions server -config work/ext.cnf 2>/dev/null

# Key formats: client.key is PKCS#8 (openssl's default); the same key as PKCS#1 and encrypted.
openssl pkey -in client.key -traditional -out client-pkcs1.key
openssl pkcs8 -topk8 -in client.key -v2 aes-256-cbc -passout pass:secret -out client-encrypted.key
openssl rsa -in client.key -traditional -aes256 -passout pass:secret -out client-encrypted-pkcs1.key 2>/dev/null
openssl ec -in client-ec.key -out client-ec-sec1.key 2>/dev/null   # "EC PRIVATE KEY"
rm client-ec.key

# An expired certificate and a revoked one with its CRL, via `openssl ca` (dates and CRLs).
mkdir -p work/ca && : > work/ca/index.txt && echo 1000 > work/ca/serial && echo 1000 > work/ca/crlnumber
cat > work/ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = work/ca
database = work/ca/index.txt
serial = work/ca/serial
crlnumber = work/ca/crlnumber
new_certs_dir = work/ca
certificate = ca.crt
private_key = ca.key
default_md = sha256
default_crl_days = $DAYS
policy = any
copy_extensions = none
[any]
commonName = supplied
CNF
for name in expired revoked; do
  openssl req -new -nodes -newkey rsa:2048 -subj "/CN=$name" -keyout $name.key -out work/$name.csr 2>/dev/null
done
openssl ca -batch -config work/ca.cnf -in work/expired.csr -out expired.crt -notext \
  -startdate 20200101000000Z -enddate 20210101000000Z -extfile work/ext.cnf -extensions server 2>/dev/null
openssl ca -batch -config work/ca.cnf -in work/revoked.csr -out revoked.crt -notext -days $DAYS \
  -extfile work/ext.cnf -extensions server 2>/dev/null
openssl ca -config work/ca.cnf -revoke revoked.crt 2>/dev/null
openssl ca -config work/ca.cnf -gencrl -out ca.crl 2>/dev/null
mkdir -p crls && cp ca.crl crls/   # for sslcrldir
# Keys no test needs (the certificates are only hashed, or only verified).
rm -rf work other-ca.key ca.srl ca.key rsa-sha384.key rsa-sha1.key ed25519.key
