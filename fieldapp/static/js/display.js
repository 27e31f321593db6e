// The waiting-room TV and the queue ticket.
//
// On the TV (body.display), every call on the board carries data-call-key (task id, call count and call time,
// so a recall is announced again) and data-announce (the Vietnamese sentence). Each new key is announced once.
// When the browser has a vi-VN voice, speechSynthesis speaks the sentence. Otherwise the TV plays the call's
// voice clip (data-clip, present when the laptop has rendered clips with `fieldapp display voices`). Without
// a clip, or when the clip fails to load, it plays a chime. Clips and chimes play one after another, never
// over each other. Calls already on the board when the page loads are not announced. Browsers play sound only after one user
// gesture, so the "Bật âm thanh" button must be tapped once, unless autoplay is allowed (the kiosk
// launcher allows it).
//
// On the ticket page (data-print="auto"), the print dialog opens once the page has loaded.

(function () {
  "use strict";

  function vietnameseVoice() {
    if (!("speechSynthesis" in window)) {
      return null;
    }
    const voices = window.speechSynthesis.getVoices();
    return voices.find((voice) => voice.lang.replace("_", "-").toLowerCase() === "vi-vn") || null;
  }

  function startDisplay(body) {
    const board = document.getElementById("board");
    const button = document.getElementById("sound-on");
    const state = document.getElementById("sound-state");
    const chime = new Audio(body.dataset.chime);
    const seen = new Set();
    let soundOn = false;
    let playing = Promise.resolve();

    function keys() {
      return board ? Array.from(board.querySelectorAll("[data-call-key]")) : [];
    }

    function enableSound() {
      soundOn = true;
      button.hidden = true;
      state.hidden = false;
    }

    function playToEnd(url) {
      return new Promise((resolve, reject) => {
        const audio = new Audio(url);
        audio.addEventListener("ended", resolve, { once: true });
        audio.addEventListener("error", () => reject(new Error(`failed to play ${url}`)), { once: true });
        audio.play().catch(reject);
      });
    }

    function played(kind, url) {
      // Tests read these attributes to see which sound was played last.
      body.dataset.lastSound = kind;
      body.dataset.lastSoundUrl = url;
    }

    function playInTurn(clip) {
      const chimeUrl = body.dataset.chime;
      playing = playing.then(async () => {
        if (clip) {
          try {
            await playToEnd(clip);
            played("clip", clip);
            return;
          } catch (error) {
            console.warn("voice clip failed, playing the chime:", error.message);
          }
        }
        try {
          await playToEnd(chimeUrl);
          played("chime", chimeUrl);
        } catch (error) {
          console.warn("chime failed:", error.message);
        }
      });
    }

    function announce(call) {
      const text = call.dataset.announce;
      // Tests read these two attributes; the count shows that a call is announced once.
      body.dataset.lastAnnouncement = text;
      body.dataset.announcements = String(Number(body.dataset.announcements || 0) + 1);
      if (!soundOn) {
        return;
      }
      const voice = vietnameseVoice();
      if (voice) {
        const utterance = new SpeechSynthesisUtterance(text);
        utterance.voice = voice;
        utterance.lang = voice.lang;
        utterance.rate = 0.9;
        window.speechSynthesis.speak(utterance);
        played("speech", "");
        return;
      }
      playInTurn(call.dataset.clip || "");
    }

    function check() {
      for (const call of keys()) {
        const key = call.dataset.callKey;
        if (!seen.has(key)) {
          seen.add(key);
          announce(call);
        }
      }
    }

    keys().forEach((call) => seen.add(call.dataset.callKey));
    body.dataset.ready = "true";

    button.addEventListener("click", () => {
      // Playing inside the tap unlocks audio for later calls; the chime also confirms the speakers work.
      chime.play().catch((error) => console.warn("chime failed:", error.message));
      if ("speechSynthesis" in window) {
        window.speechSynthesis.getVoices();
      }
      enableSound();
    });

    // An AudioContext starts "running" only when the browser allows sound without a gesture.
    const Context = window.AudioContext || window.webkitAudioContext;
    if (Context) {
      const probe = new Context();
      if (probe.state === "running") {
        enableSound();
      }
      probe.close();
    }

    if (board) {
      new MutationObserver(check).observe(board, { childList: true, subtree: true });
    }
  }

  function startTicket() {
    const button = document.getElementById("print-ticket");
    button.addEventListener("click", () => window.print());
    window.addEventListener("load", () => window.setTimeout(() => window.print(), 300));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const body = document.body;
    if (body.classList.contains("display")) {
      startDisplay(body);
    } else if (body.dataset.print === "auto") {
      startTicket();
    }
  });
})();
