// Vitest global setup: Prosody must be installed before any test file starts its own instance.
import { ensureProsody } from "./prosody.js";

export default function setup(): void {
  ensureProsody();
}
