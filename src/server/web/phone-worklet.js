// Switchboard softphone audio worklets (48 kHz, mono).
//
// softphone-capture: hands the microphone's samples to the page in 128-frame
// blocks; the page cuts them into 20 ms frames for the Opus encoder.
//
// softphone-player: plays the bot's decoded voice from a queue. Messages in:
//   {pcm: Float32Array, gen}  audio to append, from barge-in generation `gen`
//   {mark: name}         echo `name` back once everything queued before it has played
//   {clear: true, gen}   barge-in: drop everything queued (marks included; the server
//                        echoes pending marks itself on clear); `gen` is the new generation
// Messages out: {mark: name} when reached, {speaking: bool} on start/stop of playback,
// {clearedPeak: x} with the loudest sample of the first block rendered after a clear,
// {stale: n} when n blocks of audio from before the latest clear were rendered (the
// page drops such audio before it gets here; this reports it if it ever did not).
// A talk spurt starts playing once PREBUFFER samples are queued (or a mark says the
// chunk is complete), so network jitter does not cut the first syllable.

const PREBUFFER = 2880; // 60 ms

class Capture extends AudioWorkletProcessor {
  process(inputs) {
    const input = inputs[0];
    if (input && input[0] && input[0].length) {
      this.port.postMessage(input[0].slice(0));
    }
    return true;
  }
}

class Player extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = []; // items: {pcm, offset} or {mark}
    this.queued = 0; // samples queued
    this.playing = false;
    this.gen = 0;
    this.port.onmessage = (e) => {
      const m = e.data;
      if (m.clear) {
        this.queue = [];
        this.queued = 0;
        this.playing = false;
        this.port.postMessage({ speaking: false });
        this.reportNext = true;
        this.gen = m.gen || 0;
      } else if (m.mark !== undefined) {
        this.queue.push({ mark: m.mark });
      } else if (m.pcm) {
        this.queue.push({ pcm: m.pcm, offset: 0, gen: m.gen || 0 });
        this.queued += m.pcm.length;
      }
    };
  }

  setPlaying(on) {
    if (on !== this.playing) {
      this.playing = on;
      this.port.postMessage({ speaking: on });
    }
  }

  // Echo the marks at the head of the queue: the audio before them has played.
  echoMarks() {
    while (this.queue.length && this.queue[0].mark !== undefined) {
      this.port.postMessage({ mark: this.queue.shift().mark });
    }
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    out.fill(0);
    if (this.reportNext) {
      this.reportNext = false;
      this.render(out);
      let peak = 0;
      for (const x of out) peak = Math.max(peak, Math.abs(x));
      this.port.postMessage({ clearedPeak: peak });
      return true;
    }
    this.render(out);
    return true;
  }

  render(out) {
    if (!this.playing) {
      const markWaiting = this.queue.some((i) => i.mark !== undefined);
      if (this.queued >= PREBUFFER || (markWaiting && this.queued > 0)) {
        this.setPlaying(true);
      } else {
        if (this.queued === 0) this.echoMarks();
        return;
      }
    }
    let i = 0;
    while (i < out.length) {
      this.echoMarks();
      const head = this.queue[0];
      if (!head) break;
      if (head.gen < this.gen) this.staleBlock = true;
      const n = Math.min(out.length - i, head.pcm.length - head.offset);
      out.set(head.pcm.subarray(head.offset, head.offset + n), i);
      head.offset += n;
      this.queued -= n;
      i += n;
      if (head.offset >= head.pcm.length) this.queue.shift();
    }
    this.echoMarks();
    if (this.staleBlock) {
      this.staleBlock = false;
      this.port.postMessage({ stale: 1 });
    }
    if (this.queued === 0) this.setPlaying(false);
  }
}

registerProcessor('softphone-capture', Capture);
registerProcessor('softphone-player', Player);
