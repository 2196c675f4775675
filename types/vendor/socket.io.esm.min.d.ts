// The page imports socket.io-client's browser build from the served vendor folder (the
// Makefile copies it there); its types are the package's own.
export * from "socket.io-client";
