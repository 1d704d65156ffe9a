// The MTU guard's control plane: half-way through the replay, an operator lowers eth1's MTU to
// 1000 bytes, through the same control map the program reads (a JS update of its writable field).
export default function controlPlane({ objects }) {
  const interfaces = objects.get('guard').typedMap('interfaces');
  return {
    packet(p) {
      if (p.number === 60) interfaces.update(3, { ifindex: 3, mtu: 1000 });
    },
  };
}
