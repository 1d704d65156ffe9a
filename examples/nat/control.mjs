// The NAT's control plane, the part of a router that is not XDP: it sees what the XDP program passes
// to the LAN interface's stack, and for a new connection's SYN allocates a WAN port, inserts the
// pair of tuples and the rewrite data into the flow map, and hands the SYN back to the interface,
// where it now matches. (A topology names this module as "control"; tests call it the same way.)
const WAN_ADDR = '203.0.113.1';
const GATEWAY_MAC = '02:00:00:00:00:ee';
const FIRST_PORT = 40000;

const ip = (b, at) => [...b.subarray(at, at + 4)].join('.');
const mac = (b, at) => [...b.subarray(at, at + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
const port = (b, at) => (b[at] << 8) | b[at + 1];

export default function natControlPlane({ objects, receive }) {
  const nat = objects.get('nat');
  const flows = nat.map('flows');
  const typed = nat.typedMap('flows');
  let nextPort = FIRST_PORT;
  return {
    frame(event) {
      const f = event.bytes;
      // A TCP SYN (no ACK) over IPv4 without options, passed to lan0's stack: a new connection.
      if (event.fate !== 'pass' || event.dev.name !== 'lan0' || f.length < 54 || f[12] !== 0x08 || f[13] !== 0x00 || f[14] !== 0x45 || f[23] !== 6) return;
      if ((f[47] & 0x12) !== 0x02) return;
      const lan = { src: ip(f, 26), dst: ip(f, 30), sport: port(f, 34), dport: port(f, 36), proto: 6 };
      const wan = { src: lan.dst, dst: WAN_ADDR, sport: lan.dport, dport: nextPort, proto: 6 };
      const rewrite = { lan_addr: lan.src, wan_addr: WAN_ADDR, lan_port: lan.sport, wan_port: nextPort, host_mac: mac(f, 6), gateway_mac: GATEWAY_MAC, packets: [0, 0] };
      try {
        flows.insert(typed.encodeKey(lan), typed.encodeKey(wan), typed.encodeValue(rewrite));
      } catch {
        return; // a retransmitted SYN: the connection is set up already
      }
      nextPort++;
      receive('lan0', f);
    },
  };
}
