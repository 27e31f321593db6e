// The waiting-room TV and the queue ticket.
//
// On the TV (body.display), every call on the board carries data-call-key (task id and call count, so a
// recall is announced again) and data-announce (the Vietnamese sentence). Each new key is announced once:
// spoken with speechSynthesis when the browser has a vi-VN voice, otherwise as a chime. Calls already on
// the board when the page loads are not announced. Browsers play sound only after one user gesture, so
// the "Bật âm thanh" button must be tapped once, unless autoplay is allowed (the kiosk launcher allows it).
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

    function keys() {
      return board ? Array.from(board.querySelectorAll("[data-call-key]")) : [];
    }

    function enableSound() {
      soundOn = true;
      button.hidden = true;
      state.hidden = false;
    }

    function announce(text) {
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
        return;
      }
      chime.currentTime = 0;
      chime.play().catch((error) => console.warn("chime failed:", error.message));
    }

    function check() {
      for (const call of keys()) {
        const key = call.dataset.callKey;
        if (!seen.has(key)) {
          seen.add(key);
          announce(call.dataset.announce);
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
