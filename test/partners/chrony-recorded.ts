/** chronyd's replies recorded for the codec's tests and the fuzzer's seeds. */

/** Replies recorded from chronyd 4.3 (cmdport on 127.0.0.1) while it took its time from the agent's
 * NTP server on 127.0.0.1, with the sequence numbers we sent. chronyc, asked at the same moment, printed:
 *   Reference ID    : 7F000001 (127.0.0.1)          Frequency       : 0.470 ppm slow
 *   Stratum         : 2                             Residual freq   : -0.035 ppm
 *   Ref time (UTC)  : Tue Dec 01 21:06:04 2026      Skew            : 2.849 ppm
 *   Last offset     : -0.000000277 seconds          Root delay      : 0.000036714 seconds
 *   RMS offset      : 0.000003454 seconds           Update interval : 1.0 seconds
 *   Leap status     : Normal
 *   -c sources: ^,*,127.0.0.1,1,0,377,0,0.000000261,-0.000000016,0.000049850
 * (System time and root dispersion move between two questions; they are checked to the digits that agree.) */
export const REC = {
  tracking: '060200000021000500000000000000005eed000100000000000000007f0000017f0000010000000000000000000000000001000000020000000000006b0f36bc09eebaa7e57ccdbfd96b50c6dee7c4ca010f6de2fb70e08606b658fee699fd5be6a6d7560480d1e3',
  nSources: '06020000000e000200000000000000005eed0002000000000000000000000001',
  sourceData: '06020000000f000300000000000000005eed000300000000000000007f000001000000000000000000000000000100000000000100000000000000ff00000000d1768fa1d88c0d8be6d115e2',
  sourcestats: '060200000022000600000000000000005eed000400000000000000007f0000017f00000100000000000000000000000000010000000000080000000400000007decc01d8fb70e08806a3a809d37bb7b2e6e15de7',
  /** Server stats over chronyd's Unix socket (format 3, chrony 4.3): 9 command packets received. */
  serverStats: '060200000036001800000000000000000000123400000000000000000000000000000000000000090000000000000000000000000000000000000000000000000000000000000000',
  /** Server stats asked over UDP: "not authorised" (STT_UNAUTH), header only. */
  serverStatsUnauth: '06020000003600010002000000000000000003ec0000000000000000',
  /** Source data for an index past the last: "no such source". */
  noSuchSource: '06020000000f00010004000000000000000003ed0000000000000000',
  /** Tracking of a chronyd whose reference is its local clock (local stratum 10): ID 7F7F0101, no address. */
  trackingLocal: '06020000002100050000000000000000000003e800000000000000007f7f01010000000000000000000000000000000000000000000a0000000000006b0f35a01604a3b2000000000000000000000000000000000000000000000000000000000000000000000000',
};
