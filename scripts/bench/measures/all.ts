// The measures of a run, in the order they run and appear in the report.

import { daemonMemory } from './daemon-memory.js'
import { editorSave } from './editor-save.js'
import type { Measure } from './measure.js'
import { smallFiles } from './small-files.js'
import { sourceTree } from './source-tree.js'
import { throughput } from './throughput.js'

export const MEASURES: Measure[] = [throughput, smallFiles, sourceTree, editorSave, daemonMemory]
