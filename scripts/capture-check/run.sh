#!/usr/bin/env bash
# Opt-in: checks that the captures our writers make read cleanly in tcpdump and tshark, and that
# our reader reads what libpcap, editcap and mergecap write. Needs tcpdump and tshark (Debian's
# tcpdump, tshark and wireshark-common packages). See check.mjs for the checks.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in tcpdump tshark editcap mergecap; do
  command -v "$tool" >/dev/null || { echo "capture-check: $tool not found (apt-get install tcpdump tshark)" >&2; exit 1; }
done
npm run build --silent
exec node scripts/capture-check/check.mjs "$@"
