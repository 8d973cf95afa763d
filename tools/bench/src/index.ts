export { emit, mean, percentile, round, sample } from "./report.js";
