/*
 * The WebSocket frame layer (RFC 6455 section 5), sans-IO.
 *
 * The decoder takes bytes and gives events: chunks of text and binary
 * messages, pings, pongs and the close frame.  A chunk is the payload
 * bytes of one feed, unmasked in place in the caller's buffer, so a big
 * message is never copied here; a fragmented message, control frames
 * between its fragments or not, comes out as the chunks of one message.
 * Errors are sticky and name the close code to send.  The encoder
 * helpers write headers, mask payloads and build close payloads; sending
 * is the caller's business.  No extensions are negotiated.
 */
#ifndef WEIR_WS_CODEC_H
#define WEIR_WS_CODEC_H

#include <stddef.h>
#include <stdint.h>

enum ws_role {
	WS_SERVER,		/* reads a client's frames: masked */
	WS_CLIENT		/* reads a server's frames: unmasked */
};

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa
};

/* Close codes (RFC 6455 section 7.4.1) weir sends or reports. */
#define WS_CLOSE_NORMAL		1000
#define WS_CLOSE_PROTOCOL	1002	/* a frame broke the protocol */
#define WS_CLOSE_NO_STATUS	1005	/* a close frame without a code */
#define WS_CLOSE_ABNORMAL	1006	/* no close frame; never sent */
#define WS_CLOSE_BAD_DATA	1007	/* text not UTF-8 */
#define WS_CLOSE_TOO_BIG	1009	/* a message over the limit */

#define WS_HEADER_MAX		14	/* the longest frame header */
#define WS_CONTROL_MAX		125	/* the longest control payload */

enum ws_status {
	WS_MORE,		/* all input used, nothing to report yet */
	WS_EVENT,		/* *ev is filled in */
	WS_ERROR		/* sticky; ws_dec_error() says why */
};

enum ws_event_type {
	WS_EV_DATA,		/* a chunk of a text or binary message */
	WS_EV_PING,
	WS_EV_PONG,
	WS_EV_CLOSE
};

#define WS_FIRST	0x1	/* a message's first chunk */
#define WS_LAST		0x2	/* its last: the message is whole */

struct ws_event {
	enum ws_event_type type;
	int		 text;		/* data: of a text message */
	int		 flags;		/* data: WS_FIRST, WS_LAST */
	const char	*data;		/* the chunk, payload or close reason */
	size_t		 len;
	int		 code;		/* close: its code, or 1005 for none */
};

struct ws_dec;

/* A decoder for one role, messages of at most max_message bytes. */
struct ws_dec	*ws_dec_new(enum ws_role, uint64_t);
void		 ws_dec_free(struct ws_dec *);
/*
 * Takes bytes (unmasking them in place) until an event or the end of
 * buf; *used says how many.  Feed again from buf + *used until WS_MORE.
 * A chunk points into buf; a control payload into the decoder, valid
 * until the next call.
 */
enum ws_status	 ws_dec_feed(struct ws_dec *, char *, size_t, size_t *,
		    struct ws_event *);
/* The end of input: WS_MORE after the close frame, else an error (1006). */
enum ws_status	 ws_dec_end(struct ws_dec *);
/* "ws: <what>, got 'c', at byte N", or NULL. */
const char	*ws_dec_error(const struct ws_dec *);
/* The close code the error calls for: 1002, 1007, 1009 (1006: end). */
int		 ws_dec_code(const struct ws_dec *);

/* A frame header (mask key or NULL) in dst; its length. */
size_t		 ws_header_write(char *, enum ws_opcode, int, uint64_t,
		    const unsigned char *);
/* Masks (or unmasks) n bytes that are offset bytes into a payload. */
void		 ws_mask(char *, size_t, const unsigned char *, uint64_t);
/* A close payload: code and reason cut to fit between characters. */
size_t		 ws_close_payload(char *, int, const char *);
/* Whether a close frame may carry the code. */
int		 ws_close_code_valid(int);

#endif
