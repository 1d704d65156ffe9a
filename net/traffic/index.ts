// Public surface of the traffic generator: flows stated one by one or drawn from a mix, streamed
// as timestamped frames in time order, deterministic in the seed.
export { drawRtt, type FlowEndpoints, type FlowPacket, type FlowSpec, type IcmpFlowSpec, type MalformedFlowSpec, type TcpFlowSpec, type UdpFlowSpec } from './flows.js';
export { trafficFrames, type FlowStart, type TrafficFrame, type TrafficOptions } from './generator.js';
export { malformedFrame, MALFORMED_VARIANTS, type MalformedVariant } from './malformed.js';
export { DEFAULT_MIX, randomTraffic, type RandomTrafficOptions, type TrafficMix } from './mix.js';
