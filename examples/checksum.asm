# Internet checksum (RFC 1071) of the r2 bytes at r1, as IPv4, TCP and UDP use it:
# the ones' complement of the ones' complement sum of the data as big-endian 16-bit words.
# Run on an IPv4 header whose checksum field is zero, it returns the checksum to put there;
# run on a header with a correct checksum, it returns 0.
  mov %r0, 0              # running sum
  mov %r3, 0              # offset into the data
loop:
  jge %r3, %r2, fold      # all bytes summed
  mov %r4, %r3
  add %r4, 1
  jge %r4, %r2, odd       # one byte left
  mov %r5, %r1
  add %r5, %r3
  ldxh %r4, [%r5+0]
  be16 %r4                # network byte order to a number
  add %r0, %r4
  add %r3, 2
  ja loop
odd:
  mov %r5, %r1
  add %r5, %r3
  ldxb %r4, [%r5+0]
  lsh %r4, 8              # a trailing byte is the high half of a last word
  add %r0, %r4
fold:
  mov %r4, %r0            # fold the carries back into the low 16 bits
  rsh %r4, 16
  and %r0, 0xffff
  add %r0, %r4
  jgt %r0, 0xffff, fold
  xor %r0, 0xffff
  exit
