export declare const pkcePair: () => {
    verifier: string;
    challenge: string;
};
export declare class ScriptedBrowser {
    readonly origin: string;
    private readonly cookies;
    constructor(origin: string);
    request(path: string, init?: {
        method?: string;
        form?: Record<string, string>;
        headers?: Record<string, string>;
    }): Promise<{
        status: number;
        location: string | null;
        body: string;
    }>;
    /** Follows same-origin redirects until a page or a redirect elsewhere. */
    follow(path: string): Promise<{
        status: number;
        location: string | null;
        body: string;
        url: string;
    }>;
}
export declare const csrfOf: (page: string) => string;
export declare const interactionOf: (url: string) => string;
/** Registers a public client by DCR. */
export declare function registerClient(origin: string, redirectUri: string): Promise<string>;
export declare function authorizeUrl(params: Record<string, string | undefined>): string;
//# sourceMappingURL=oauth-flow.d.ts.map