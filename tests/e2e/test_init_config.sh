#!/usr/bin/env bash
# test_init_config.sh - init (SPEC 1, 2): the home layout, the demo CA's
# profile and key mode, no overwrite of an existing home; a bad configuration
# stops the program with a message naming the line.
. "$(dirname "$0")/lib.sh"

H=$PWD/H
new_home "$H"
for d in db ca spool/incoming spool/receipts spool/responses spool/archive spool/rejected; do
    [ -d "$H/$d" ] || fail "init did not create $d/"
done
[ -f "$H/smki-batch.conf" ] || fail "init did not write smki-batch.conf"
CA=$H/ca/issuing-ca.pem
KEY=$H/ca/issuing-ca.key
assert_eq "mode of the CA key" "$(stat -c %a "$KEY")" 600

step "the demo CA certificate"
openssl x509 -in "$CA" -noout -text >ca.txt || fail "the CA certificate does not parse"
subject=$(openssl x509 -in "$CA" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
issuer=$(openssl x509 -in "$CA" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')
assert_eq "CA self-signed (issuer = subject)" "$issuer" "$subject"
case $subject in CN=*,OU=07) ;; *) fail "CA subject is '$subject', expected OU=07, CN=<name>" ;; esac
openssl verify -CAfile "$CA" "$CA" >/dev/null 2>&1 || fail "the CA certificate does not verify against itself"
[[ $(grep -A1 'X509v3 Basic Constraints: critical' ca.txt) == *CA:TRUE* ]] || fail "basicConstraints is not critical CA:TRUE"
ku=$(grep -A1 'X509v3 Key Usage' ca.txt | tr -s ' \n' ' ' | sed 's/^ //')
assert_eq "CA keyUsage" "$ku" "X509v3 Key Usage: critical Certificate Sign, CRL Sign "
ski=$(grep -A1 'Subject Key Identifier' ca.txt | tail -n 1 | tr -d ' :' | tr 'a-f' 'A-F')
point=$(openssl x509 -in "$CA" -noout -pubkey | openssl pkey -pubin -outform DER | tail -c 65 | sha256sum | cut -c1-16 | tr 'a-f' 'A-F')
assert_eq "CA subjectKeyIdentifier (SHA-256 of the key, 8 octets)" "$ski" "$point"
grep -q 'ASN1 OID: prime256v1' ca.txt || fail "the CA key is not P-256"
openssl pkey -in "$KEY" -pubout 2>/dev/null | cmp -s - <(openssl x509 -in "$CA" -noout -pubkey) \
    || fail "the CA key file does not match the CA certificate"

step "init refuses to overwrite a home"
cp "$H/smki-batch.conf" conf.bak
cp "$KEY" key.bak
rc=0
smki init --home "$H" --demo-ca >init2.log 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "init over an existing home exited 0"
cmp -s "$KEY" key.bak || fail "init over an existing home replaced the CA key"
cmp -s "$H/smki-batch.conf" conf.bak || fail "init over an existing home rewrote the configuration"

step "a bad configuration stops the program, naming the line"
add_party "$H" "$PARTY_A" ACME
n=0
bad_conf() {    # DESCRIPTION SED-EXPRESSION|APPEND-TEXT LINE-PATTERN [OTHER-ACCEPTABLE-LINE-PATTERN]
    n=$((n + 1))
    make_batch "$H/spool/incoming/c$n.xml" 2 "$PARTY_A" "CONF-$n"
    cp conf.bak "$H/smki-batch.conf"
    case $2 in s/*) sed -i "$2" "$H/smki-batch.conf" ;; *) printf '%s\n' "$2" >>"$H/smki-batch.conf" ;; esac
    local line line2 rc=0
    line=$(grep -n -m1 -e "$3" "$H/smki-batch.conf" | cut -d: -f1)
    line2=$(grep -n -m1 -e "${4:-$3}" "$H/smki-batch.conf" | cut -d: -f1)
    timeout 20 "$SMKI_BIN" run --home "$H" --drain >conf.log 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
        soft_fail "run --drain with $1 in smki-batch.conf (line $line) exited 0 and ran"
        return
    fi
    grep -Eq "smki-batch.conf:($line|$line2)\b" conf.log \
        || soft_fail "the message for $1 does not name line $line: $(head -c 300 conf.log)"
    [ -f "$H/spool/incoming/c$n.xml" ] || fail "run --drain with $1 took a file"
    rm -f "$H/spool/incoming/c$n.xml"
}
bad_conf "an unknown key" "bogus = 1" "^bogus"
bad_conf "an unknown section" $'[nosuch]\nx = 1' "^\[nosuch\]" "^x = 1"
bad_conf "a value out of range" "s/^nightly = 375000/nightly = -5/" "^nightly = -5"
bad_conf "a bad time" "s/^start = 20:00/start = 25:99/" "^start = 25:99"
bad_conf "an unknown section without keys" "[nosuch]" "^\[nosuch\]"
cp conf.bak "$H/smki-batch.conf"
make_batch "$H/spool/incoming/c.xml" 2 "$PARTY_A" CONF
drain "$H"
assert_accepted "$H" c
finish "init and configuration checks passed"
