// Encrypted spill files: temporary files whose bytes on disk are AES-256-CTR ciphertext under
// a key that exists only in this process's memory.
//
// Why: large scans move data to temporary files (timeline runs, alert streams, store runs).
// For an encrypted iOS backup that data is decrypted evidence (message text, URLs), and the
// evidence rule is that decrypted plaintext never reaches the disk unless asked for.
//
// What is protected
//   - Data at rest in spill files: what the disk (or a backup of /tmp, a later reader of the
//     freed blocks, another user who can read the file) holds is ciphertext. The key is drawn
//     once per process with RAND_bytes and is never written anywhere, so a file left behind
//     by a crash or a kill -9 is unreadable, also by the next bridle process (reopening it
//     fails cleanly, see spill_fopen).
//   - Each file has its own random 16-byte nonce (the initial counter), so no two files, and
//     no two offsets of one file, share keystream.
// What is NOT protected
//   - Integrity: CTR is malleable and there is no MAC. Whoever can write the file can flip
//     plaintext bits undetected (spill files live in private 0700 temporary folders and are
//     created 0600; the threat addressed is disclosure, not tampering).
//   - The process itself: the key (and OpenSSL's expanded key schedule) is in ordinary memory,
//     so a core dump, swap, /proc/<pid>/mem or a debugger attached as the same user can
//     recover it, and the plaintext buffers the callers hold are in memory anyway.
//   - A forked child inherits the key and can read the parent's files.
//   - File sizes and write patterns are visible (ciphertext length == plaintext length + a
//     64-byte header).
//
// Linux/glibc only (fopencookie, O_TMPFILE).
//
// Format: a 64-byte header ("BRDLSPL1", version, the nonce, a check block = a known constant
// encrypted with the key and nonce at a counter no data offset reaches), then the data,
// byte i encrypted with the keystream at counter nonce + i/16 (128-bit big-endian add).
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>

namespace bridle {

// AES-256-CTR keystream of one spill object (process key + this object's nonce). apply() is
// const and thread-safe: concurrent calls (on any ranges, on any SpillCipher) share no mutable
// state (each thread keeps its own OpenSSL context). For callers that keep a raw fd and use
// pwrite/pread: encrypt a copy before pwrite(fd, buf, n, off), decrypt after pread, with the
// same `off` (the plaintext offset; store the nonce yourself if the data must be re-read by
// another SpillCipher object).
class SpillCipher {
 public:
  using Nonce = std::array<unsigned char, 16>;
  SpillCipher();                                  // fresh random nonce
  explicit SpillCipher(const Nonce& nonce) : nonce_(nonce) {}
  const Nonce& nonce() const { return nonce_; }
  // XORs the keystream for bytes [offset, offset + n) into buf (encrypt == decrypt). Any
  // offset and length (unaligned, > 4 GiB); pieces applied separately give the same bytes as
  // one call over the whole range. Throws std::runtime_error only if OpenSSL fails.
  void apply(std::uint64_t offset, char* buf, std::size_t n) const;

 private:
  Nonce nonce_;
};

// Size of the header that precedes the data in a spill file.
inline constexpr std::size_t kSpillHeaderSize = 64;
// stdio buffer of a spill stream unless the caller asks for another size: the cookie then
// sees few, large reads and writes (each one AES-CTR + one pread/pwrite).
inline constexpr std::size_t kSpillBufferSize = std::size_t{256} << 10;

// Opens an encrypted spill file as a stdio stream. mode: "wb" (create/truncate, write),
// "w+b" (create/truncate, read+write), "rb" (read), "r+b" (read+write); the 'b' is optional,
// and an 'x' after 'w' (e.g. "wbx") fails if the path exists. Files are created 0600
// (an existing file truncated by "w" is set to 0600 too), opened O_CLOEXEC and O_NOFOLLOW.
// "w" writes the header at once, so a reader may open the path as soon as this returns and
// sees whatever the writer has fflush()ed.
// The FILE* behaves as an ordinary one for fread/fwrite/fgetc/fputc/fprintf/fseeko/ftello
// (plaintext offsets; SEEK_SET/CUR/END)/feof/ferror/fflush/fclose; fileno() is -1 (use
// spill_pread for positional reads). Writing past the end fills the gap with encrypted zeros
// (costs as much as writing them; spill writers append).
// buffer_size: the stream's stdio buffer, allocated with it and freed by fclose; 0 leaves
// glibc's default (8 KiB, allocated on first use), e.g. for a reader that only calls fread
// with large chunks of its own (those go to the cookie directly, bypassing the buffer).
// Close spill streams before the process exits: bytes still buffered in a stream left open
// are dropped at exit (the key is gone by then; nobody could read them anyway).
// Returns nullptr with errno set on failure, in particular:
//   EBADMSG      the file has no spill header (not a spill file, or truncated before it)
//   EKEYREJECTED the file was written by another process (different key): its data cannot
//                be decrypted, so it is refused rather than read as garbage
//   EINVAL       unsupported mode
std::FILE* spill_fopen(const std::filesystem::path& p, const char* mode, std::size_t buffer_size = kSpillBufferSize);

// An unlinked read+write spill file, like std::tmpfile (nothing left on disk after fclose or
// a crash; O_TMPFILE, or a random name unlinked at once where the file system lacks it). Created in `dir`, by default std::filesystem::temp_directory_path() ($TMPDIR or
// /tmp). buffer_size as for spill_fopen. nullptr with errno on failure.
std::FILE* spill_tmpfile(const std::filesystem::path& dir = {}, std::size_t buffer_size = kSpillBufferSize);

// Positional read of plaintext bytes [offset, offset + n) of a stream from spill_fopen /
// spill_tmpfile, like pread(2): does not move the stream position and may be called from
// several threads at once on the same stream (not while another thread writes to or closes it).
// Bytes still in the stream's write buffer are not seen: fflush first. Returns the bytes read
// (short at end of file, 0 at or past it), or -1 with errno (EBADF: not a spill stream).
ssize_t spill_pread(std::FILE* f, void* buf, std::size_t n, std::uint64_t offset);

// True when f was returned by spill_fopen / spill_tmpfile and is not closed yet.
bool is_spill_file(std::FILE* f);

}  // namespace bridle
