// Measures the issue asks for that meshfs cannot be measured on yet. They are listed in every
// report, with what they wait for, so a reader sees the gap instead of a made-up figure. When
// the feature lands, turn the entry into a measure in measures/ and delete it here.

export interface PendingMeasure {
  group: string
  label: string
  needs: string
}

/** Both exist now (namespaces, and sync between daemons); their measures are the next round's work. */
const REPLICATED = 'a measure over 10k/100k replicated resources (next bench round); RSS growth per file in a namespace is measured above'
const TWO_NODES = 'a two-daemon measure over loopback (next bench round); nodes sync since the sync issue'

export const NOT_YET_MEASURABLE: PendingMeasure[] = [
  { group: '4. Replication', label: 'close on A -> visible on B, p50 / p99', needs: TWO_NODES },
  { group: '4. Replication', label: 'bulk: untar on A, until all of it is visible on B', needs: TWO_NODES },
  { group: '5. Scale & memory', label: 'daemon RSS per replicated resource (10k / 100k resources)', needs: REPLICATED },
  {
    group: '5. Scale & memory',
    label: 'tree-doc bytes per resource (stored Yjs updates + snapshot)',
    needs: `${REPLICATED}, and a way to read a namespace's stored size`,
  },
]
