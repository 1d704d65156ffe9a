// The runtime's simulated network: its interfaces by name and ifindex. Every network has `lo`,
// ifindex 1, as a Linux network namespace does; new interfaces take the next free ifindex unless
// they name one. Test runs may name any of them as ingress_ifindex; devmaps take their ifindexes.
import { RuntimeError } from './errors.js';
import { Netdev, type NetdevConfig } from './netdev.js';

/** Linux's loopback interface: ifindex 1, address 00:00:00:00:00:00, MTU 65536, its output fed back into it. */
export const LOOPBACK_CONFIG: NetdevConfig = { name: 'lo', ifindex: 1, mac: '00:00:00:00:00:00', mtu: 65536, loopback: true, xdpXmit: false, broadcast: '00:00:00:00:00:00' };

/** The interfaces of a runtime. */
export class Network {
  private readonly byIndex = new Map<number, Netdev>();
  private readonly byName = new Map<string, Netdev>();
  /** The loopback interface. */
  readonly lo: Netdev;

  constructor() {
    this.lo = this.addInterface(LOOPBACK_CONFIG);
  }

  /** Creates an interface; throws RuntimeError when its name or ifindex is taken. */
  addInterface(config: NetdevConfig): Netdev {
    if (this.byName.has(config.name)) throw new RuntimeError(`there is already an interface named '${config.name}'`);
    let ifindex = config.ifindex;
    if (ifindex === undefined) {
      ifindex = 1;
      while (this.byIndex.has(ifindex)) ifindex++;
    } else if (!Number.isInteger(ifindex) || ifindex < 1 || ifindex > 0x7fffffff) {
      throw new RuntimeError(`${config.name}: ifindex ${ifindex} must be a positive integer`);
    } else if (this.byIndex.has(ifindex)) {
      throw new RuntimeError(`${config.name}: ifindex ${ifindex} is taken by ${this.byIndex.get(ifindex)!.name}`);
    }
    const dev = new Netdev(config, ifindex);
    this.byIndex.set(ifindex, dev);
    this.byName.set(dev.name, dev);
    return dev;
  }

  /** Takes an interface out of the network (not lo). */
  removeInterface(dev: Netdev): void {
    if (dev === this.lo) throw new RuntimeError('lo cannot be removed');
    if (this.byIndex.get(dev.ifindex) !== dev) return;
    this.byIndex.delete(dev.ifindex);
    this.byName.delete(dev.name);
  }

  /** The interface with this ifindex or name, if any. */
  find(which: number | string): Netdev | undefined {
    return typeof which === 'number' ? this.byIndex.get(which) : this.byName.get(which);
  }

  /** The interface with this ifindex or name; throws RuntimeError listing the interfaces there are. */
  get(which: number | string): Netdev {
    const dev = this.find(which);
    if (!dev) throw new RuntimeError(`no interface ${typeof which === 'number' ? `with ifindex ${which}` : `'${which}'`} (there are: ${this.list().map((d) => `${d.name} (${d.ifindex})`).join(', ')})`);
    return dev;
  }

  /** Every interface, by ifindex. */
  list(): Netdev[] {
    return [...this.byIndex.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  /** Zeroes every interface's counters. */
  resetCounters(): void {
    for (const dev of this.byIndex.values()) dev.counters.reset();
  }
}
