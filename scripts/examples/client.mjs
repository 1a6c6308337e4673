// The TypeScript client, as the README shows it. Against a running daemon:
//   node scripts/examples/client.mjs [DATA_DIR]
import { connect, MeshfsError } from 'meshfs'

const client = connect({ dataDir: process.argv[2] ?? `${process.env.HOME}/.local/share/meshfs` })

const ns = await client.createNamespace('notes-app', { alias: 'journal', description: 'my notes' })
console.log(`created ${ns.alias} (${ns.id})`)
await client.createGroupInNamespace('journal', 'drafts')
const me = await client.getNamespaceIdentity('journal')
console.log(`this node is ${me.role} of journal, key ${me.publicKey.slice(0, 8)}…`)

// Follow the namespace's events while something changes it.
const events = await client.subscribeNamespace('journal')
await client.createGroupInNamespace('journal', 'drafts/today')
for await (const event of events) {
  console.log(`event: ${event.type} ${event.path}`)
  break
}

const token = await client.createNamespaceInvitation('journal', { expires: '1h' })
console.log(`an invitation for another node: ${token.length} characters of JSON`)
try {
  await client.getNamespace('no-such-namespace')
} catch (err) {
  if (!(err instanceof MeshfsError)) throw err
  console.log(`a typed error: ${err.code}`)
}
await client.deleteNamespace('journal', { force: true })
console.log('deleted journal')
