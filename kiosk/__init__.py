"""Open the waiting-room display or the self check-in page full screen on a TV or a kiosk PC.

Display TV:

    python -m kiosk --url https://127.0.0.1:8443/display/

Self check-in kiosk (opens /checkin/ on the same server):

    python -m kiosk --url https://127.0.0.1:8443/display/ --check-in

The browser is --browser PATH, else Chromium or Chrome in its usual place (chrome.exe under Program Files
or LocalAppData on Windows). Each mode gets its own profile folder, ~/.fieldapp-kiosk/display or
~/.fieldapp-kiosk/checkin, so its sign-in cookie and settings stay apart from the user's browser.
--profile sets another folder. Close the kiosk window with Alt+F4.

Signing in: the first time, sign in on the kiosk window with the staff account it will keep using. The
display needs a coordinator or site admin account. The check-in page and the queue ticket need reception,
coordinator or site admin. A session opened on another machine must come from a paired device, as for
phones, and the kiosk PC must trust the site's certificate, or Chromium shows a certificate warning.

Sound: the kiosk starts Chromium with --autoplay-policy=no-user-gesture-required, so the display speaks
without the "Bật âm thanh" tap. The display speaks with a vi-VN voice when the browser offers one,
which depends on the voices installed on the operating system. Otherwise it plays the voice clips that
`fieldapp display voices` renders on the laptop with espeak-ng (number, desk and station, never a name),
and where the laptop has no clips, fieldapp/static/audio/chime.wav. `python -m kiosk.chime` writes that
file again.

Tickets: in --check-in mode Chromium also gets --kiosk-printing, so window.print() on the ticket page
/display/ticket/<visit_id> prints to the system's default printer without a dialog. Make the 80 mm
receipt printer the default printer. A printer without a system driver can be driven over ESC/POS with
python-escpos (optional, not a dependency), for example:

    from escpos.printer import Usb
    printer = Usb(0x04B8, 0x0202)          # the printer's USB vendor and product ids
    printer.set(align="center", double_height=True, double_width=True)
    printer.text("15\\n")
    printer.cut()
"""
