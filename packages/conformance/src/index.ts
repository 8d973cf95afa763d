// @sotto/conformance: the interop corpus of MLS over ActivityPub application data. See README.md.
export {
  type Bindings,
  type CoreExpectation,
  type Expectation,
  type Fixture,
  instantiate,
  loadFixtures,
} from "./fixtures.js";
