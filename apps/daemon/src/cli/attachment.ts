// `sotto send --file <path>`: a file read into an inline attachment, its media type taken from its extension.
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import type { Attachment } from "@sotto/api";
import { CliError } from "./config.js";

const MEDIA_TYPES: Readonly<Record<string, string>> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".svg": "image/svg+xml",
  ".mp3": "audio/mpeg",
  ".ogg": "audio/ogg",
  ".opus": "audio/opus",
  ".m4a": "audio/mp4",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
  ".pdf": "application/pdf",
  ".txt": "text/plain",
  ".html": "text/html",
  ".htm": "text/html",
  ".md": "text/markdown",
  ".json": "application/json",
};

export function mediaTypeOf(path: string): string {
  return MEDIA_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

export async function readAttachment(path: string): Promise<Attachment> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    throw new CliError(
      "no_input",
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
      {
        cause: error,
      },
    );
  }
  return { mediaType: mediaTypeOf(path), name: basename(path), data: data.toString("base64") };
}
