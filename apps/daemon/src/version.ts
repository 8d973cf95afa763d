/** The version of sottod and sotto (the CLI imports it without the daemon). */
export const VERSION = "0.1.0";
