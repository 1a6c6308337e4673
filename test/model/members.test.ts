import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import * as Y from 'yjs'
import { grantRole, markLeft, MemberList } from '../../src/model/members.js'
import { namespaceIdFor, verifiedCreator, writeOrigin } from '../../src/model/namespace-info.js'
import { KeyPair, verify as edVerify } from '../../src/net/trust/identity.js'

const verify = (key: string, bytes: Uint8Array, sig: Uint8Array) => edVerify(key, bytes, sig)

/** A namespace created by `creator`: its origin and the creator's own admin record. */
function namespace(creator: KeyPair): { doc: Y.Doc; ns: string } {
  const doc = new Y.Doc()
  const nonce = randomBytes(16).toString('hex')
  const ns = namespaceIdFor(creator.publicKey, nonce)
  writeOrigin(doc, creator.publicKey, nonce)
  grantRole(doc, ns, creator, creator.publicKey, 'admin', 1000)
  return { doc, ns }
}

function sync(from: Y.Doc, to: Y.Doc): void {
  Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)))
}

const read = (doc: Y.Doc, ns: string) => MemberList.read(doc, ns, verify)

describe('members', () => {
  test('the creator is admin; an admin grants member and admin; a member may admit members', () => {
    const [a, b, c, d] = [KeyPair.generate(), KeyPair.generate(), KeyPair.generate(), KeyPair.generate()]
    const { doc, ns } = namespace(a)
    assert.equal(verifiedCreator(doc, ns), a.publicKey)
    assert.ok(read(doc, ns).isAdmin(a.publicKey))
    grantRole(doc, ns, a, b.publicKey, 'member', 2000)
    grantRole(doc, ns, b, c.publicKey, 'member', 3000)
    let list = read(doc, ns)
    assert.deepEqual(
      list
        .current()
        .map((m) => [m.publicKey, m.role, m.grantedBy])
        .sort(),
      [
        [a.publicKey, 'admin', a.publicKey],
        [b.publicKey, 'member', a.publicKey],
        [c.publicKey, 'member', b.publicKey],
      ].sort(),
    )
    assert.equal(list.isMember(d.publicKey), false)
    grantRole(doc, ns, a, b.publicKey, 'admin')
    list = read(doc, ns)
    assert.ok(list.isAdmin(b.publicKey))
    assert.equal(list.get(b.publicKey)!.joinedMs, 2000, 'a role change keeps when the member joined')
  })

  test('a grant of admin by a member, a self-grant, an unsigned or forged record and a forged creator are ignored', () => {
    const [a, b, c, x] = [KeyPair.generate(), KeyPair.generate(), KeyPair.generate(), KeyPair.generate()]
    const { doc, ns } = namespace(a)
    grantRole(doc, ns, a, b.publicKey, 'member')
    grantRole(doc, ns, a, c.publicKey, 'member')
    // A modified peer of member b writes what its role does not allow, with valid signatures.
    grantRole(doc, ns, b, c.publicKey, 'admin')
    grantRole(doc, ns, x, x.publicKey, 'admin')
    doc.getMap('members').set(KeyPair.generate().publicKey, { role: 'admin', joined: 1, by: a.publicKey, sig: 'AAAA' })
    doc.getMap('members').set(KeyPair.generate().publicKey, { role: 'admin', joined: 1 })
    const list = read(doc, ns)
    assert.deepEqual(
      list
        .current()
        .filter((m) => m.role === 'admin')
        .map((m) => m.publicKey),
      [a.publicKey],
    )
    assert.equal(list.isMember(c.publicKey), false, "c's record is the refused admin grant now")
    assert.equal(list.isMember(x.publicKey), false)
    assert.equal(list.size, 2)
    // Rewriting the origin to name itself creator does not match the namespace id.
    writeOrigin(doc, b.publicKey, 'whatever')
    assert.equal(verifiedCreator(doc, ns), undefined)
    assert.equal(read(doc, ns).isAdmin(b.publicKey), false)
  })

  test('leaving is a signed tombstone that replicates; nobody can mark another member left', () => {
    const [a, b, c] = [KeyPair.generate(), KeyPair.generate(), KeyPair.generate()]
    const { doc, ns } = namespace(a)
    grantRole(doc, ns, a, b.publicKey, 'member')
    grantRole(doc, ns, a, c.publicKey, 'member')
    const other = new Y.Doc()
    sync(doc, other)
    markLeft(other, ns, b, 5000)
    // c forges b's tombstone: the signature is c's, not b's.
    const forged = {
      ...(doc.getMap('members').get(a.publicKey) as object),
      left: 9,
      lsig: Buffer.from(c.sign(new Uint8Array(3))).toString('base64url'),
    }
    doc.getMap('members').set(a.publicKey, forged)
    sync(other, doc)
    const list = read(doc, ns)
    assert.equal(list.isMember(b.publicKey), false)
    assert.equal(list.get(b.publicKey)!.leftMs, 5000)
    assert.ok(list.isAdmin(a.publicKey), 'a forged tombstone is ignored')
    // Readmitted with a fresh grant, b is a member again.
    grantRole(doc, ns, a, b.publicKey, 'member', 7000)
    assert.ok(read(doc, ns).isMember(b.publicKey))
    assert.equal(read(doc, ns).get(b.publicKey)!.joinedMs, 7000)
  })

  test('what an admin granted stands after it leaves; the list follows remote updates', () => {
    const [a, b, c] = [KeyPair.generate(), KeyPair.generate(), KeyPair.generate()]
    const { doc, ns } = namespace(a)
    const other = new Y.Doc()
    grantRole(doc, ns, a, b.publicKey, 'admin')
    sync(doc, other)
    assert.ok(read(other, ns).isAdmin(b.publicKey))
    markLeft(doc, ns, a)
    grantRole(doc, ns, b, c.publicKey, 'member')
    sync(doc, other)
    const list = read(other, ns)
    assert.equal(list.isMember(a.publicKey), false)
    assert.ok(list.isAdmin(b.publicKey))
    assert.ok(list.isMember(c.publicKey))
  })
})
