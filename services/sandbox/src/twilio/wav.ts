/**
 * A real, short WAV file: RIFF/WAVE, 16-bit PCM at 8 kHz (Twilio's recording format), a tone on each
 * channel (a different pitch per party on a dual-channel recording), so any player accepts and plays it.
 */
export function toneWav(durationMs: number, channels: 1 | 2): Buffer {
  const rate = 8000;
  const frames = Math.round((rate * durationMs) / 1000);
  const blockAlign = channels * 2;
  const data = Buffer.alloc(frames * blockAlign);
  const pitches = [440, 660];
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const sample = Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * (pitches[c] ?? 440) * i) / rate));
      data.writeInt16LE(sample, i * blockAlign + c * 2);
    }
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16); // PCM fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
