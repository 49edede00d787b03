"""Which Matrix devices may read the bot's replies: trust on first use, then an admin decides.

Matrix encrypts a reply for every device of every room member. A device added to a clinician's
account later (a stolen password, a homeserver administrator) would silently receive every
reply, so: the devices an allowed user has when the bot first sees them are pinned; a device that
appears after that is blacklisted (nio never shares a room key with it) until an admin runs
`/trust DEVICE` in chat; the room is told once, in one line, that replies are held back from it.
Devices of users not on the allowlist never get keys. Pins live in the log (`matrix_devices`).
"""

from __future__ import annotations

from typing import Any

from neuroladder.bot.storage.matrix import MatrixState
from neuroladder.bot.storage.store import Store

HELD_BACK = (
    "A new device of {user} ({device}) is not yet trusted, so my replies are held back from it. "
    "If it is theirs, an admin can approve it with /trust {device}."
)
TRUST_COMMANDS = ("devices", "trust")


class DeviceTrust:
    def __init__(self, state: MatrixState, store: Store, client: Any, allowed: frozenset[str]):
        self.state = state
        self.store = store
        self.client = client
        self.allowed = allowed

    def apply(self, room_id: str) -> list[str]:
        """Before sending into `room_id`: share keys only with trusted devices of allowed members.
        Returns the one-line notices due (a new device seen for the first time)."""
        client = self.client
        room = client.rooms.get(room_id)
        if room is None or not room.encrypted:
            return []
        notices: list[str] = []
        changed = False
        for user_id in list(room.users):
            if user_id == client.user_id:
                continue
            devices = list(client.device_store.active_user_devices(user_id))
            if user_id not in self.allowed:
                for device in devices:
                    changed |= self._block(device)
                continue
            pins = self.state.pins(user_id)
            first_use = not pins
            for device in devices:
                pin = pins.get(device.id)
                if pin is None or pin["ed25519"] != device.ed25519:  # new, or the same id with new keys
                    trusted = first_use
                    self.state.pin(user_id, device.id, device.ed25519, trusted)
                    pin = {"trusted": trusted, "announced": 0}
                if pin["trusted"]:
                    changed |= self._allow(device)
                else:
                    changed |= self._block(device)
                    if not pin["announced"]:
                        self.state.mark_announced(user_id, device.id)
                        notices.append(HELD_BACK.format(user=user_id, device=device.id))
        if changed:  # a key already shared with a device now blocked (or one now allowed): new key
            client.olm.rotate_outbound_group_session(room_id)
        return notices

    def _block(self, device) -> bool:
        if self.client.olm.is_device_blacklisted(device):
            return False
        self.client.blacklist_device(device)
        return True

    def _allow(self, device) -> bool:
        changed = False
        if self.client.olm.is_device_blacklisted(device):
            self.client.unblacklist_device(device)
            changed = True
        if not self.client.olm.is_device_verified(device):
            self.client.verify_device(device)
        return changed

    # -- admin commands (channel-level: they are about this transport, not the consult) -------
    def command(self, cmd: str, arg: str, author: str | None) -> str:
        if cmd == "devices":
            rows = self.state.devices()
            if not rows:
                return "No devices seen yet."
            lines = ["Devices of allowed users (replies are encrypted only to trusted ones):"]
            for user_id, device_id, trusted, by in rows:
                state = f"trusted ({by})" if trusted else "NOT trusted - /trust " + device_id
                lines.append(f"{user_id} {device_id}: {state}")
            return "\n".join(lines)
        device_id = arg.strip()
        updated = self.state.trust(device_id, str(author)) if device_id else False
        if not updated:
            return "Usage: /trust DEVICE - a device id from /devices."
        self.store.audit("trust_device", {"device": device_id, "by": author})
        for room_id in list(self.client.rooms):  # share a fresh key that includes it
            self.client.olm.rotate_outbound_group_session(room_id)
        return f"Device {device_id} is now trusted: my next replies are readable on it."
