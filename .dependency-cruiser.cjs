// The doors of src/ (docs/architecture.md), checked in `npm test` (npm run deps).
// dependency-cruiser reads every import, type-only ones included: a type import is an arrow too.
// Floors of the emulator, top to bottom: inspect/, timeTravel/ > machine.ts, machineInput.ts,
// buildMachine.ts, debugPort.ts >
// hostSoftware/, cardSoftware/ > virtio/ > bus/ > card/ > sim/, net/, mem/, lib/ and errno.ts.
// An arrow may only point down.

const E = '^src/emulator/';
/** The emulator's rooms at and above a floor, as one path pattern. */
const above = (...rooms) => `${E}(${rooms.join('|')})`;
const SOFTWARE = ['hostSoftware/', 'cardSoftware/'];
// The facade, the helper that builds it from options and the debugger's port into it.
const TOP = ['inspect/', 'timeTravel/', '(machine|machineInput|buildMachine|debugPort)\\.ts$'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import circles in src/: every arrow points down a floor (review-2 §1).',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'emulator-no-front-ends',
      severity: 'error',
      comment: 'The machine knows nothing of DAP, VS Code or the CLI (architecture: doors open one way).',
      from: { path: E },
      to: { path: ['^src/(debugAdapter|extension|cli)/', '^vscode$', '@vscode/'] },
    },
    {
      name: 'adapter-no-editor',
      severity: 'error',
      comment:
        'The debug adapter runs outside VS Code too (nvim-dap, dape): it never imports vscode, the extension or the CLI.',
      from: { path: '^src/debugAdapter/' },
      to: { path: ['^src/(extension|cli)/', '^vscode$', '@types/vscode/'] },
    },
    {
      name: 'cli-no-editor',
      severity: 'error',
      comment: 'The headless runner stands on the emulator alone.',
      from: { path: '^src/cli/' },
      to: { path: ['^src/(extension|debugAdapter)/', '^vscode$', '@types/vscode/', '@vscode/'] },
    },
    {
      name: 'host-software-not-card-software',
      severity: 'error',
      comment:
        'Host and card software meet only at the emulated hardware and the shared virtio layout, as on a real machine.',
      from: { path: `${E}hostSoftware/` },
      to: { path: `${E}cardSoftware/` },
    },
    {
      name: 'card-software-not-host-software',
      severity: 'error',
      comment:
        'Host and card software meet only at the emulated hardware and the shared virtio layout, as on a real machine.',
      from: { path: `${E}cardSoftware/` },
      to: { path: `${E}hostSoftware/` },
    },
    {
      name: 'software-not-up',
      severity: 'error',
      comment: 'Software does not know the machine that holds it, nor the inspectors over it.',
      from: { path: above(...SOFTWARE) },
      to: { path: above(...TOP) },
    },
    {
      name: 'virtio-not-up',
      severity: 'error',
      comment: 'The split-ring layout is shared by both halves and depends on neither.',
      from: { path: `${E}virtio/` },
      to: { path: above(...SOFTWARE, ...TOP) },
    },
    {
      name: 'bus-not-up',
      severity: 'error',
      comment: 'Address decoding knows the hardware it routes to, not the software or layouts above it.',
      from: { path: `${E}bus/` },
      to: { path: above('virtio/', ...SOFTWARE, ...TOP) },
    },
    {
      name: 'card-no-software',
      severity: 'error',
      comment: 'The X100 hardware imports no software and no bus: what runs on it hooks in through CardCpu.',
      from: { path: `${E}card/` },
      to: { path: above('bus/', 'virtio/', ...SOFTWARE, ...TOP) },
    },
    {
      name: 'leaves-stay-leaves',
      severity: 'error',
      comment:
        'The spine, the wire, memory and the small libraries sit on the ground floor: they import no other room.',
      from: { path: [`${E}(sim|net|mem|lib)/`, `${E}errno\\.ts$`] },
      to: { path: above('card/', 'bus/', 'virtio/', ...SOFTWARE, ...TOP) },
    },
    {
      name: 'kernel-and-drivers-not-userland',
      severity: 'error',
      comment:
        'On the card, drivers sit under the kernel and the shell over it: only the composition root (cardModules.ts) joins them.',
      from: { path: `${E}cardSoftware/`, pathNot: `${E}cardSoftware/(shell/|cardModules\\.ts$)` },
      to: { path: `${E}cardSoftware/(shell/|cardModules\\.ts$)` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
