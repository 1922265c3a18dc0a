/** Public options of cloud-init user-data (see StatefulHost.cloudInit). */

/** The shape of the user-data document that `StatefulHost.cloudInit()` returns. */
export enum CloudInitFormat {
  /** One `#cloud-config` document. */
  CLOUD_CONFIG = 'CLOUD_CONFIG',
  /**
   * A MIME `multipart/mixed` document: the `parts` you pass first, this
   * host's `#cloud-config` last, with a `Merge-Type` that appends to (never
   * replaces) your cloud-config lists and keeps your keys.
   */
  MIME_MULTIPART = 'MIME_MULTIPART',
}

/** How the user-data document is encoded. */
export enum CloudInitEncoding {
  /** The text as it is (for `user_data`). */
  PLAIN = 'PLAIN',
  /**
   * gzip (fixed header: no name, no time), then base64: for
   * `user_data_base64`. cloud-init unpacks it; about 6 % of the plain size
   * for long peer lists.
   */
  GZIP_BASE64 = 'GZIP_BASE64',
}

/**
 * A user-data part of your own, combined with the firewall's in a
 * {@link CloudInitFormat.MIME_MULTIPART} document.
 *
 * @example
 * { contentType: 'text/x-shellscript', content: '#!/bin/sh\necho hello\n', filename: 'hello.sh' }
 */
export interface CloudInitPart {
  /** MIME type, e.g. `text/cloud-config`, `text/x-shellscript`, `text/cloud-boothook`. */
  readonly contentType: string;
  /** The part's text. */
  readonly content: string;
  /**
   * File name shown to cloud-init.
   * @default `part-N.txt` (N = its position, from 1)
   */
  readonly filename?: string;
}

/**
 * Options of `StatefulHost.cloudInit()`.
 *
 * @example
 * { format: CloudInitFormat.CLOUD_CONFIG, encoding: CloudInitEncoding.GZIP_BASE64 }
 */
export interface CloudInitOptions {
  /**
   * One `#cloud-config` document, or MIME multipart with your own `parts`.
   * @default CloudInitFormat.CLOUD_CONFIG
   */
  readonly format?: CloudInitFormat;
  /**
   * Plain text, or gzip + base64 (pass it as `user_data_base64`).
   * @default CloudInitEncoding.PLAIN
   */
  readonly encoding?: CloudInitEncoding;
  /**
   * Your own parts, placed before the firewall's (MIME_MULTIPART only).
   * @default - none
   */
  readonly parts?: CloudInitPart[];
  /**
   * Largest user-data in bytes, as the instance receives it (the gzip bytes
   * for GZIP_BASE64, before base64): a bigger document fails synth. AWS EC2
   * allows 16,384 bytes; 0 turns the check off.
   * @default 16384
   */
  readonly maxBytes?: number;
  /**
   * Stop, disable and mask an active ufw, nftables or firewalld instead of
   * failing the boot's cloud-init run (the distro profile's own conflicts,
   * firewalld on RHEL, are always masked).
   * @default false
   */
  readonly takeOver?: boolean;
}
