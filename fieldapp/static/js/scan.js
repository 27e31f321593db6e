// Check-in scanner: keeps the camera open and scans continuously for slip QR codes, Code128 barcodes
// and citizen-card QR codes, then submits the code through the page's own scan form.
// Uses the browser's BarcodeDetector where it reads QR codes (Android Chrome), else the vendored
// ZXing WebAssembly reader, fetched from this laptop. Without JavaScript the plain forms still work.
(function () {
  "use strict";

  var SCAN_INTERVAL_MS = 200;
  // The same code seen again is skipped until the camera has not seen it for this long (slip taken away).
  var SAME_CODE_GAP_MS = 2000;
  var MAX_FRAME_WIDTH = 960;

  var scanner = document.getElementById("scanner");
  var form = document.getElementById("scan-form");
  var input = document.getElementById("code");
  var result = document.getElementById("result");
  if (!form || !input || !result) return;

  var audio = null;
  function unlockAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) audio = new Context();
    if (audio && audio.state === "suspended") audio.resume();
  }
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });

  function beep(frequency, durationMs, delayMs) {
    if (!audio) return;
    var start = audio.currentTime + (delayMs || 0) / 1000;
    var oscillator = audio.createOscillator();
    var gain = audio.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.2, start);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(start);
    oscillator.stop(start + durationMs / 1000);
  }

  // Sound and vibration for each kind of result the server renders in data-outcome.
  var FEEDBACK = {
    ok: function () { beep(1320, 120); vibrate(80); },
    found: function () { beep(1320, 90); vibrate(60); },
    already: function () { beep(880, 120); beep(880, 120, 180); vibrate([80, 60, 80]); },
    warn: function () { beep(660, 200); vibrate([120, 60, 120]); },
    walkin: function () { beep(660, 200); vibrate([120, 60, 120]); },
    bad: function () { beep(330, 350); vibrate([300, 100, 300]); },
    ignored: function () { beep(440, 60); }
  };
  // After these results the next slip can be scanned or typed at once; the others show a form.
  var READY_FOR_NEXT = { ok: true, already: true, bad: true, ignored: true };

  function vibrate(pattern) {
    if (navigator.vibrate) navigator.vibrate(pattern);
  }

  var waitingForResult = false;
  new MutationObserver(function () {
    waitingForResult = false;
    var shown = result.querySelector("[data-outcome]");
    var outcome = shown ? shown.getAttribute("data-outcome") : "";
    if (FEEDBACK[outcome]) FEEDBACK[outcome]();
    if (READY_FOR_NEXT[outcome]) {
      input.value = "";
      input.focus({ preventScroll: true });
    }
  }).observe(result, { childList: true });

  function submitCode(text) {
    input.value = text;
    waitingForResult = true;
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  if (!scanner || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;

  var video = document.getElementById("camera");
  var status = document.getElementById("scan-status");
  var torch = document.getElementById("torch");
  var canvas = document.createElement("canvas");
  var context2d = canvas.getContext("2d", { willReadFrequently: true });
  var lastText = "";
  var lastSeenAt = 0;

  function say(text) {
    if (status) status.textContent = text || "";
  }

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = url;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load " + url)); };
      document.head.appendChild(script);
    });
  }

  // Returns a function that reads the codes in the current video frame and resolves to their texts.
  function makeDetector() {
    if ("BarcodeDetector" in window) {
      return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") < 0) return zxingDetector();
        var wanted = ["qr_code", "code_128"].filter(function (name) { return formats.indexOf(name) >= 0; });
        var detector = new window.BarcodeDetector({ formats: wanted });
        return function () {
          return detector.detect(video).then(function (codes) {
            return codes.map(function (code) { return code.rawValue; });
          });
        };
      });
    }
    return zxingDetector();
  }

  function zxingDetector() {
    var wasmUrl = scanner.getAttribute("data-zxing-wasm");
    return loadScript(scanner.getAttribute("data-zxing-js")).then(function () {
      window.ZXingWASM.prepareZXingModule({
        overrides: {
          locateFile: function (path, prefix) {
            return path.endsWith(".wasm") ? wasmUrl : prefix + path;
          }
        }
      });
      var options = { formats: ["QRCode", "Code128"], tryHarder: true, maxNumberOfSymbols: 1 };
      return function () {
        var width = video.videoWidth;
        var height = video.videoHeight;
        if (!width || !height) return Promise.resolve([]);
        var scale = Math.min(1, MAX_FRAME_WIDTH / width);
        canvas.width = Math.round(width * scale);
        canvas.height = Math.round(height * scale);
        context2d.drawImage(video, 0, 0, canvas.width, canvas.height);
        var frame = context2d.getImageData(0, 0, canvas.width, canvas.height);
        return window.ZXingWASM.readBarcodes(frame, options).then(function (codes) {
          return codes.filter(function (code) { return code.isValid; }).map(function (code) { return code.text; });
        });
      };
    });
  }

  function setUpTorch(track) {
    var capabilities = track.getCapabilities ? track.getCapabilities() : {};
    if (!torch || !capabilities.torch) return;
    torch.hidden = false;
    torch.addEventListener("click", function () {
      var on = torch.getAttribute("aria-pressed") !== "true";
      track.applyConstraints({ advanced: [{ torch: on }] }).then(function () {
        torch.setAttribute("aria-pressed", on ? "true" : "false");
      });
    });
  }

  function loop(detect) {
    function tick() {
      if (document.hidden || waitingForResult || video.readyState < 2) {
        window.setTimeout(tick, SCAN_INTERVAL_MS);
        return;
      }
      detect().then(function (texts) {
        var now = Date.now();
        var text = texts.length ? texts[0] : "";
        if (text && (text !== lastText || now - lastSeenAt > SAME_CODE_GAP_MS)) {
          lastText = text;
          lastSeenAt = now;
          submitCode(text);
        } else if (text) {
          lastSeenAt = now;
        }
      }).catch(function (error) {
        say(error.message);
      }).then(function () {
        window.setTimeout(tick, SCAN_INTERVAL_MS);
      });
    }
    tick();
  }

  navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment", width: { ideal: 1280 } }, audio: false })
    .then(function (stream) {
      scanner.hidden = false;
      video.srcObject = stream;
      video.play();
      setUpTorch(stream.getVideoTracks()[0]);
      return makeDetector().then(function (detect) {
        say(scanner.getAttribute("data-text-scanning"));
        scanner.setAttribute("data-ready", "true");
        loop(detect);
      });
    })
    .catch(function (error) {
      // No camera, or permission refused: the text field and the search still work.
      scanner.hidden = true;
      say(error.message);
    });
})();
