/** Types of scripts/version.mjs, for the tests that use it. */
export declare const COPIES: readonly { file: string; pattern: RegExp }[];
export declare function readVersion(): string;
export declare function copies(): { file: string; version: string | undefined }[];
export declare function problems(): string[];
