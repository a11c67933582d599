internal import DVICInstall

/// The install script that `GET /install.sh?token=…` serves (Spec/install.md): rendered for one
/// enrollment, with the download URL of a one-time token, the build's SHA-256 and the server's
/// release key filled in. POSIX sh only (dash, busybox), so that it runs on a Pi as on a desktop.
enum InstallScript {
    struct Parameters {
        var serverURL: String
        var enrollToken: String
        var downloadURL: String
        var sha256Hex: String
        var version: String
        var releaseKey: String?
    }

    static func render(_ parameters: Parameters) -> String {
        let values: [(String, String)] = [
            ("@@SERVER@@", InstallCommand.quote(parameters.serverURL)),
            ("@@TOKEN@@", InstallCommand.quote(parameters.enrollToken)),
            ("@@DOWNLOAD@@", InstallCommand.quote(parameters.downloadURL)),
            ("@@SHA256@@", InstallCommand.quote(parameters.sha256Hex)),
            ("@@VERSION@@", InstallCommand.quote(parameters.version)),
            ("@@RELEASE_KEY@@", InstallCommand.quote(parameters.releaseKey ?? "")),
            ("@@UNIT@@", unit),
        ]
        var text = template
        for (placeholder, value) in values { text = text.replacing(placeholder, with: value) }
        return text
    }

    /// deploy/dvic-agent.service with the paths of this install (a test holds the two equal).
    static let unit = """
        [Unit]
        Description=DVIC demo monitoring agent
        After=network-online.target
        Wants=network-online.target
        StartLimitIntervalSec=0

        [Service]
        Type=simple
        ExecStart=$BIN_DIR/dvic-agent --config $CONF_DIR/agent.conf --state $STATE_DIR
        Restart=always
        RestartSec=2
        KillMode=control-group
        KillSignal=SIGTERM
        TimeoutStopSec=15
        User=root
        StateDirectory=dvic
        StateDirectoryMode=0700
        ConfigurationDirectory=dvic
        PrivateTmp=no
        LockPersonality=yes
        RestrictRealtime=yes
        ProtectClock=yes
        KeyringMode=private
        SystemCallArchitectures=native
        OOMScoreAdjust=-500
        LimitNOFILE=65536
        TasksMax=4096
        Nice=5
        IOSchedulingClass=best-effort
        IOSchedulingPriority=6

        [Install]
        WantedBy=multi-user.target
        """

    static let template = #"""
        #!/bin/sh
        # DVIC agent installer, rendered by dvic-server for one enrollment (Spec/install.md).
        #   curl -fsSL http://SERVER:8080/install.sh?token=T | sudo sh
        #   ... | sudo sh -s -- --prefix DIR     (everything under DIR, no systemd unit)
        # Safe to run twice: a running agent is stopped, the binary replaced, the node's key and
        # id in the state directory kept, and the agent started again.
        set -eu

        DVIC_SERVER=@@SERVER@@
        DVIC_TOKEN=@@TOKEN@@
        DVIC_DOWNLOAD=@@DOWNLOAD@@
        DVIC_SHA256=@@SHA256@@
        DVIC_VERSION=@@VERSION@@
        DVIC_RELEASE_KEY=@@RELEASE_KEY@@

        # Progress and failures in a form the SSH installer reads (DVIC-STEP / DVIC-FAIL lines).
        step() { echo "DVIC-STEP $1 $2"; }
        fail() { echo "DVIC-FAIL $1 $2" >&2; echo "dvic install: $2" >&2; exit 1; }

        PREFIX=""
        SYSTEMD=auto
        while [ $# -gt 0 ]; do
          case "$1" in
            --prefix) [ $# -ge 2 ] || fail install_failed "--prefix needs a directory"; PREFIX="$2"; shift 2 ;;
            --prefix=*) PREFIX="${1#*=}"; shift ;;
            --no-systemd) SYSTEMD=no; shift ;;
            *) fail install_failed "unknown option $1 (use --prefix DIR or --no-systemd)" ;;
          esac
        done

        if [ -n "$PREFIX" ]; then
          case "$PREFIX" in /*) ;; *) PREFIX="$(pwd)/$PREFIX" ;; esac
          BIN_DIR="$PREFIX/bin"; CONF_DIR="$PREFIX/etc/dvic"; STATE_DIR="$PREFIX/var/lib/dvic"; LOG_DIR="$PREFIX/var/log"
          SYSTEMD=no
        else
          [ "$(id -u)" = 0 ] || fail no_sudo "run it as root: curl -fsSL '$DVIC_SERVER/install.sh?token=…' | sudo sh"
          BIN_DIR=/usr/local/bin; CONF_DIR=/etc/dvic; STATE_DIR=/var/lib/dvic; LOG_DIR=/var/log
        fi
        if [ "$SYSTEMD" = auto ]; then
          if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then SYSTEMD=yes; else SYSTEMD=no; fi
        fi

        fetch() {
          if command -v curl >/dev/null 2>&1; then curl -fsS -o "$2" "$1"
          elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"
          else return 1; fi
        }
        sha256() {
          if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
          elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
          else openssl dgst -sha256 -r "$1" | cut -d' ' -f1; fi
        }

        mkdir -p "$BIN_DIR" "$CONF_DIR" "$STATE_DIR" "$LOG_DIR" || fail install_failed "cannot create the directories under ${PREFIX:-/}"
        chmod 700 "$STATE_DIR"

        step downloading "dvic-agent $DVIC_VERSION from $DVIC_SERVER"
        TMP="$BIN_DIR/.dvic-agent.download.$$"
        trap 'rm -f "$TMP"' EXIT
        fetch "$DVIC_DOWNLOAD" "$TMP" || fail download_failed "could not download the agent from $DVIC_SERVER (the download link is valid once; fetch install.sh again)"
        SUM="$(sha256 "$TMP")"
        [ "$SUM" = "$DVIC_SHA256" ] || fail download_failed "the downloaded agent's SHA-256 is $SUM, expected $DVIC_SHA256"
        chmod 755 "$TMP"

        # Stop a running agent (a second run), then swap the binary in one rename.
        PID_FILE="$STATE_DIR/agent.pid"
        if [ "$SYSTEMD" = yes ]; then
          systemctl stop dvic-agent.service >/dev/null 2>&1 || true
        elif [ -f "$PID_FILE" ]; then
          OLD="$(cat "$PID_FILE" 2>/dev/null || true)"
          if [ -n "$OLD" ] && kill -0 "$OLD" 2>/dev/null; then
            kill "$OLD" 2>/dev/null || true
            i=0; while kill -0 "$OLD" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done
            kill -9 "$OLD" 2>/dev/null || true
          fi
          rm -f "$PID_FILE"
        fi
        mv -f "$TMP" "$BIN_DIR/dvic-agent"
        trap - EXIT

        # The config holds the enrollment token: root only. An enrolled node keeps its key and id
        # (in the state directory) and ignores the token.
        CONF_TMP="$CONF_DIR/.agent.conf.$$"
        umask 077
        {
          echo "# Written by the DVIC installer. Keys: see dvic-agent --help."
          echo "server = $DVIC_SERVER"
          echo "enroll-token = $DVIC_TOKEN"
          echo "state = $STATE_DIR"
          [ -z "$DVIC_RELEASE_KEY" ] || echo "release-key = $DVIC_RELEASE_KEY"
        } > "$CONF_TMP"
        mv -f "$CONF_TMP" "$CONF_DIR/agent.conf"
        umask 022
        step installed "dvic-agent $DVIC_VERSION in $BIN_DIR, config in $CONF_DIR/agent.conf"

        if [ "$SYSTEMD" = yes ]; then
          cat > /etc/systemd/system/dvic-agent.service <<UNIT
        @@UNIT@@
        UNIT
          systemctl daemon-reload
          systemctl enable dvic-agent.service >/dev/null 2>&1 || fail install_failed "systemctl enable dvic-agent failed"
          systemctl restart dvic-agent.service || fail install_failed "systemctl restart dvic-agent failed; see journalctl -u dvic-agent"
          step started "systemd unit dvic-agent.service enabled and started"
        else
          LOG_FILE="$LOG_DIR/dvic-agent.log"
          if command -v setsid >/dev/null 2>&1; then DETACH=setsid; else DETACH=""; fi
          # Every descriptor redirected, so that an SSH session can end without waiting for it.
          nohup $DETACH "$BIN_DIR/dvic-agent" --config "$CONF_DIR/agent.conf" --state "$STATE_DIR" </dev/null >>"$LOG_FILE" 2>&1 &
          echo $! > "$PID_FILE"
          sleep 1
          kill -0 "$(cat "$PID_FILE")" 2>/dev/null || fail install_failed "the agent exited at once: $(tail -n 3 "$LOG_FILE" 2>/dev/null | tr '\n' ' ')"
          step started "running in the background as pid $(cat "$PID_FILE") (no systemd here), log in $LOG_FILE"
          echo "dvic install: no systemd on this machine, so the agent will not start again after a reboot."
          echo "  To make it permanent, add this line to root's crontab (crontab -e):"
          echo "  @reboot $BIN_DIR/dvic-agent --config $CONF_DIR/agent.conf --state $STATE_DIR >>$LOG_FILE 2>&1"
        fi
        echo "dvic install: done; the node appears on $DVIC_SERVER once the agent has connected."
        """#
}
