export const USAGE: Record<string, string> = {
  main: `meshfs — a shared, replicated namespace mounted as an ordinary directory

Usage: meshfs <command> [options]

Commands:
  mount MOUNTPOINT     start the node and mount its tree (foreground; Ctrl-C unmounts)
  unmount MOUNTPOINT   stop the daemon serving MOUNTPOINT and unmount it
  which PATH           print the handler that serves PATH on a running mount
  ns ...               namespaces: create, list, get, delete, identity, members, grant, leave, token
  group ...            groups inside a namespace: list, create, nest, unnest, subgroups
  invite NS            print an invitation token for another node to join NS
  join TOKEN|-         join a namespace with a token (- reads it from stdin)
  status               this node: id, URL, uptime, connected peers, each namespace's sync state
  peers NS             the members of NS this node knows of: URL, last seen, failed dials
  notify NS PEER DATA  send a message to a connected member (it shows on its events stream)
  sync ...             sync targets: list, enable, disable (mirror a namespace into another)

Options:
  -h, --help           show help (also after a command: meshfs mount --help)
  -V, --version        print the version
  --json               (every command) machine-readable output on stdout; errors as
                       {"error": {"code", "message"}} on stderr
  --data DIR           (every node command) the node to talk to, by its data directory
  --verbose            (every node command) say which node was chosen, and why

Which node a command talks to: --data DIR, else $MESHFS_DATA, else the meshfs mount that
contains the current directory, else the default data directory ($XDG_DATA_HOME/meshfs or
~/.local/share/meshfs) if its daemon runs, else the only daemon running. Several running and
nothing to choose by: the command is refused with the list.

Node keys are printed with '.' in place of '-' (so none starts with '-'); either form, or its
first 6+ characters, is accepted. '--' ends the options: meshfs ns grant team -- KEY admin.

Exit codes: 0 success, 1 the operation failed, 2 bad arguments.
`,
  mount: `Usage: meshfs mount MOUNTPOINT [options]

Starts the node in the foreground and mounts its tree at MOUNTPOINT (an existing, empty
directory). Ctrl-C or SIGTERM unmounts cleanly; a second signal detaches the mount at once and
exits. A mountpoint left dead by a crashed daemon ("Transport endpoint is not connected") is
recovered.

Options:
  --data DIR               the node's data directory (default: $MESHFS_DATA, else $XDG_DATA_HOME/meshfs
                           or ~/.local/share/meshfs)
  --handler /PATH=KIND[:ARG]
                           mount a handler at /PATH inside the tree; may repeat. Kinds:
                             memory          an in-memory area (not replicated, not persistent)
                             dir:FOLDER      a host folder, kept current
                             time            read-only clock files (Fan's TimeNamespace)
                             module:FILE[?ARG]  a JavaScript module whose default export is a handler
  --listen HOST[:PORT]     where peers reach this node (default 127.0.0.1, on the port used last
                           time if it is free, else a free one; .meshfs/status shows the URL)
  --max-frame-bytes N      close a peer connection that sends a larger frame (default 16 MiB)
  --max-connections-per-peer N  (default 4)
  --max-blob-rate BYTES    serve binary chunks to each peer connection at most this fast, per second
                           (default: unlimited)
  --fetch-timeout SECONDS  a read of a binary whose first version is still arriving waits for its
                           chunks; it fails with EIO when none arrived for this long (default 60;
                           keep it below --op-timeout, which answers ETIMEDOUT first)
  --op-timeout SECONDS     answer ETIMEDOUT when one operation takes longer (default 120; 0 = never)
  --mkdir                  create MOUNTPOINT if it does not exist (removed again if the mount fails)
  --allow-other            let other users use the mount (needs user_allow_other in /etc/fuse.conf unless root)
  --log-level LEVEL        debug, info, warn or error (default info)
  --json                   once mounted, print {"mountpoint", "pid", "dataDir", "url"} on stdout
  -h, --help               show this help
`,
  unmount: `Usage: meshfs unmount MOUNTPOINT [--json]

Asks the daemon serving MOUNTPOINT to unmount and stop; a dead mount is detached.
`,
  which: `Usage: meshfs which PATH [--json]

Prints the handler that serves PATH on a running meshfs mount: its mount path, its kind and
what it serves, and PATH relative to it.
`,
  ns: `Usage: meshfs ns <subcommand> [--data DIR] [--json]

Namespaces of the running node (the daemon using --data DIR; without it, see meshfs --help for
how the node is chosen). NS is a namespace id, its path (team/design) or its alias.

  ns create ALIAS [--app ID] [--upgrade-policy automatic|lazy-on-access|coordinated] [--description TEXT]
                       create a namespace, mounted at MOUNT/ALIAS (same as mkdir MOUNT/ALIAS);
                       PARENT/ALIAS creates one nested in namespace PARENT, at MOUNT/PARENT/ALIAS
  ns list [--app ID]   the namespaces this node is a member of (for one application), with paths
  ns get NS            one namespace's details
  ns delete NS [--force]
                       admins only: delete a namespace from this node; it must be empty (like
                       rmdir) and hold no nested namespaces, unless --force, which deletes
                       everything in it and the nested ones: irreversible
  ns identity NS       this node's identity in NS: public key, role, when it joined
  ns members NS        the members: key, role, joined, left
  ns grant NS MEMBER_KEY admin|member
                       admins only: set a member's role (MEMBER_KEY: the key as printed or as
                       stored, or its first 6+ characters)
  ns leave NS [--force]
                       leave NS (and the namespaces nested in it): peers are told, then it is
                       deleted from this node. The last admin must grant admin to another member
                       first, unless --force
  ns token NS [--expires DURATION] [--read-only]
                       print a bearer token for stock Yjs clients (y-websocket) to open NS's
                       text resources on this node: ws://URL/NAMESPACE_ID/RESOURCE_ID?token=TOKEN
                       (DURATION as 90s, 30m, 1h, 7d; default: no expiry). --json adds the
                       namespace id and the node's URL
`,
  group: `Usage: meshfs group <subcommand> NS ... [--data DIR] [--json]

Groups are the directories of a namespace; GROUP is a group id or its path inside the namespace.

  group list NS                    every group, with its id and path (like find -type d)
  group create NS PATH             create a group (like mkdir)
  group nest NS PARENT CHILD       move CHILD under PARENT, keeping its id (like mv CHILD PARENT/)
  group unnest NS GROUP            move GROUP to the top of the namespace (like mv GROUP .)
  group subgroups NS GROUP         the groups directly inside GROUP (like ls)
`,
  invite: `Usage: meshfs invite NS [--recursive] [--expires DURATION | --expires-at UNIX_MS] [--uses N] [--data DIR] [--json]

Prints a signed invitation token (JSON) for namespace NS: the namespace id, this node's key and
address, expiry (DURATION as 90s, 30m, 1h, 7d; default 24h) and how many nodes may use it
(default 1). Give it to the other node's owner: meshfs join TOKEN. --recursive also makes the
joiner a member of the namespaces nested in NS (that this node holds).
`,
  join: `Usage: meshfs join TOKEN|- [--data DIR] [--json]

Joins the namespace a token invites to: connects to the inviter, proves this node's key, is
recorded as a member, syncs, and mounts the namespace. '-' reads the token from stdin.
Expired, tampered, used-up or malformed tokens are refused and nothing is joined.
`,
  status: `Usage: meshfs status [--data DIR] [--json]

Prints the running node's status (the same document as MOUNT/.meshfs/status): its node id (its
public key), the URL peers reach it at, uptime, the peers connected now with the namespaces it
shares with each, and per namespace the peers connected and known, when it last caught up with
a peer, and how many blobs it is fetching; and each binary whose new version is still arriving
(ARRIVING: namespace and path, HAVE of OF bytes, FROM the peers asked, and the size of the complete
version served meanwhile).
`,
  peers: `Usage: meshfs peers NS [--data DIR] [--json]

Lists the members of namespace NS this node knows of, from their signed agent infos (gossiped
among members, valid for 20 minutes and renewed) and its live connections: each one's URL,
whether it is connected, when this node last heard from it, how many dials in a row failed and
since when it has been unresponsive.
`,
  notify: `Usage: meshfs notify NS PEER DATA|- [--data DIR] [--json]

Sends DATA (a string of at most 64 KiB; '-' reads it from stdin) to PEER, a member of namespace
NS connected to this node, given as its node key or a unique prefix of it. The message appears
on PEER's events stream of NS as {"type":"notify","from":KEY,"data":DATA}. It is sent, not
stored: a peer that is not connected gets an error here, not the message later.
`,
  sync: `Usage: meshfs sync <subcommand> NS ... [--data DIR] [--json]

Sync targets mirror namespace NS into another namespace: on another node (TARGET_URL is its
ws:// URL, from its .meshfs/status; this node must have joined the target namespace first) or
on this node (TARGET_URL 'local'). Only an admin of NS changes its targets.

  sync list NS         NS's sync targets (--json: the sync configuration document)
  sync enable NS TARGET_URL --type simplex|duplex [--target-namespace NAME]
                       mirror NS into NAME (default: a namespace named like NS); simplex sends
                       NS's changes to the target only, duplex both ways
  sync enable NS TARGET_URL --type simplex|duplex --group PATH [--target-namespace NAME]
                       set the mode of group PATH (a dataset): it may narrow the target's type
                       (simplex inside a duplex target), never widen it
  sync disable NS TARGET_URL NAME [--group PATH]
                       stop mirroring NS into NAME (with --group: that group only)
`,
}
