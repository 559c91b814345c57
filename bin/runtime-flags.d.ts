// Types for runtime-flags.js (plain JavaScript, since bin/vigil.js must run before type stripping is known to work).
export declare const RUNTIME_FLAGS: string[];
