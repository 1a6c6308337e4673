// A node behind a link the test can pull: a network namespace of its own, joined to the host by a
// veth pair. `cut()` takes the link down, so connections die silently, as when a cable is pulled
// or a laptop sleeps (nothing closes them; the heartbeat notices); `heal()` brings it back.
// `withCutLink` removes the namespace and the link in a `finally`.

import { randomInt } from 'node:crypto'
import { ok, sh } from './harness.js'

export async function canMakeNetworkNamespaces(): Promise<boolean> {
  return process.getuid?.() === 0 && (await sh('command -v ip && command -v nsenter')).code === 0
}

export interface CutLink {
  /** The host's end: node A listens here. */
  hostIp: string
  /** The namespace's end: node B listens here, started inside with `wrap`. */
  nodeIp: string
  /** The command prefix that runs a daemon inside the namespace. */
  wrap: string[]
  cut(): Promise<void>
  heal(): Promise<void>
}

/** `prefix`: one letter telling apart the links of concurrent tests; `subnet`: 10.SUBNET.x.0/30. */
export async function withCutLink(prefix: string, subnet: number, fn: (link: CutLink) => Promise<void>): Promise<void> {
  const tag = `${process.pid % 10000}${randomInt(100)}`
  const netns = `meshfs-${prefix}${tag}`
  const hostIf = `mf${prefix}h${tag}`
  const nsIf = `mf${prefix}n${tag}`
  const octet = randomInt(1, 250)
  const hostIp = `10.${subnet}.${octet}.1`
  const nodeIp = `10.${subnet}.${octet}.2`
  try {
    await ok(`ip netns add ${netns}`)
    await ok(`ip link add ${hostIf} type veth peer name ${nsIf}`)
    await ok(`ip link set ${nsIf} netns ${netns}`)
    await ok(`ip addr add ${hostIp}/30 dev ${hostIf} && ip link set ${hostIf} up`)
    await ok(`ip netns exec ${netns} sh -c 'ip addr add ${nodeIp}/30 dev ${nsIf} && ip link set ${nsIf} up && ip link set lo up'`)
    await fn({
      hostIp,
      nodeIp,
      wrap: ['nsenter', `--net=/run/netns/${netns}`],
      cut: async () => void (await ok(`ip link set ${hostIf} down`)),
      heal: async () => void (await ok(`ip link set ${hostIf} up`)),
    })
  } finally {
    await sh(`ip netns del ${netns}; ip link del ${hostIf}`)
  }
}
