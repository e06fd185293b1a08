// Contract D as eslint-plugin-boundaries element types. Shared by eslint.config.js and
// by the test that proves a box-to-box import fails lint.
//
//   contracts      packages/contracts        imports nothing of ours
//   primitives     packages/primitives       imports contracts only
//   backend        packages/memory-backend   imports contracts, primitives
//   box            packages/boxes/*          imports contracts, primitives (never a box)
//   root           packages/allocator        the composition root: boxes meet here
//   testkit        packages/testkit          may import anything below apps
//   app            apps/*, examples/*        may import anything but tests
//   contrib        boxes-contrib/*           a box under development (npm run new-box): the
//                                            contracts, and the default boxes, the backend
//                                            and the composition root it starts from and is
//                                            composed by (src/heap.ts); not testkit, tools
//                                            or apps. (A box of packages/boxes may import
//                                            no box: a scaffolded copy already imports only contracts and primitives; a --delegate box drops its delegation first.)
//   tools          tools/**                  may import anything
//   box-test       packages/boxes/*/test/**  its own box, and what a test may import but
//                                            other boxes: boxes meet only in the composition
//                                            root, so a box's test reaches them through it
//   test           **/test/**, *.test.ts     may import anything (boxes included)

export const elements = [
  { type: 'box-test', pattern: '**/packages/boxes/*/test/**', mode: 'full', capture: ['under', 'box'] },
  { type: 'test', pattern: ['**/test/**', '**/*.test.ts'], mode: 'full' },
  { type: 'contracts', pattern: 'packages/contracts', mode: 'folder' },
  { type: 'primitives', pattern: 'packages/primitives', mode: 'folder' },
  { type: 'backend', pattern: 'packages/memory-backend', mode: 'folder' },
  { type: 'box', pattern: 'packages/boxes/*', mode: 'folder', capture: ['box'] },
  { type: 'root', pattern: 'packages/allocator', mode: 'folder' },
  { type: 'testkit', pattern: 'packages/testkit', mode: 'folder' },
  { type: 'app', pattern: ['apps/*', 'examples/*'], mode: 'folder', capture: ['app'] },
  { type: 'contrib', pattern: 'boxes-contrib/*', mode: 'folder', capture: ['box'] },
  { type: 'tools', pattern: 'tools', mode: 'folder' },
];

export const elementTypesRule = [
  2,
  {
    default: 'disallow',
    message: 'Contract D: ${file.type} may not import ${dependency.type}',
    rules: [
      { from: 'contracts', allow: [] },
      { from: 'primitives', allow: ['contracts'] },
      { from: 'backend', allow: ['contracts', 'primitives'] },
      { from: 'box', allow: ['contracts', 'primitives'] },
      {
        from: 'box',
        disallow: ['box'],
        message: 'Contract D: box ${file.box} may not import box ${dependency.box}; boxes meet only in the composition root',
      },
      { from: 'root', allow: ['contracts', 'primitives', 'backend', 'box'] },
      { from: 'testkit', allow: ['contracts', 'primitives', 'backend', 'box', 'root'] },
      { from: 'app', allow: ['contracts', 'primitives', 'backend', 'box', 'root', 'testkit', 'tools'] },
      { from: 'contrib', allow: ['contracts', 'primitives', 'backend', 'box', 'root'] },
      { from: 'tools', allow: ['contracts', 'primitives', 'backend', 'box', 'root', 'testkit', 'tools'] },
      { from: 'box-test', allow: ['contracts', 'primitives', 'backend', 'root', 'testkit', 'tools', 'box-test', ['box', { box: '${from.box}' }]] },
      {
        from: 'box-test',
        disallow: [['box', { box: '!${from.box}' }]],
        message: 'Contract D: the tests of box ${file.box} may not import box ${dependency.box}; reach other boxes through the composition root',
      },
      { from: 'test', allow: ['contracts', 'primitives', 'backend', 'box', 'root', 'testkit', 'tools', 'app', 'contrib', 'test'] },
    ],
  },
];
