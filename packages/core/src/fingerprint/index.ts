export { type DeviceFingerprint, deviceFingerprint } from "./device.js";
export { FingerprintError, type SafetyNumber, type SafetyParty, safetyNumber } from "./safetyNumber.js";
