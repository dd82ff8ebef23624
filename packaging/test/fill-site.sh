#!/bin/sh
# fill-site.sh BROKER < site.yaml > filled.yaml: fills in the packaged site
# template as a technician would for a test kiosk on the rpi4 board
# profile, in dev mode against a plain-TCP test broker (so without the TLS
# files), trusting the dev township key and sealing to the dev records key
# (both refused in production mode, which this test kiosk is not).
set -eu
broker=$1
sed -e 's|^mode: production .*|mode: dev|' \
	-e 's|^board: "FILL-IN.*|board: boards/rpi4.yaml|' \
	-e 's|^  id: "FILL-IN.*|  id: test-kiosk-01|' \
	-e 's|^  township: "FILL-IN.*|  township: test-township|' \
	-e 's|^  village: "FILL-IN.*|  village: test-village|' \
	-e 's|^  name: "FILL-IN: the title.*|  name: 测试村综治服务一体机|' \
	-e "s|^  broker: \"FILL-IN.*|  broker: $broker|" \
	-e 's|^    - "FILL-IN: the township.s public key.*|    - HKed1wQb110VBAibFcTLdFa7+4XE0G0dIyShwYn99VI=|' \
	-e 's|^  township_key: "FILL-IN.*|  township_key: Y8uGHCAlnEROj8COJyldRFUb+GM/LPMxpsYThEB6rnc=|' \
	-e 's|^    name: "FILL-IN.*|    name: 林晓明|' \
	-e 's|^    firm: "FILL-IN.*|    firm: 武夷山市某某律师事务所|' \
	-e 's|^    phone: "FILL-IN.*|    phone: "0599-5317356"|' \
	-e '/^  tls:$/,/^    key_file:/d'
