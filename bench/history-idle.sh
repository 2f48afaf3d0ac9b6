#!/bin/sh
# bench/history-idle.sh BIN N HISTORY SECONDS: idle CPU (% of one CPU) and RSS of a daemon with N
# sleepers and [supervisord] history=HISTORY, measured over SECONDS after 20 s of start-up (issue 17).
BIN=$1; N=$2; HIST=$3; SECS=$4
D=$(mktemp -d)
{
  printf '[supervisord]\nlogfile=%s/sd.log\npidfile=%s/sd.pid\nchildlogdir=%s\nhistory=%s\n\n' $D $D $D $HIST
  printf '[unix_http_server]\nfile=%s/s.sock\n\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n' $D
  printf '[program:sl]\ncommand=/bin/sleep 100000\nnumprocs=%d\nprocess_name=%%(program_name)s_%%(process_num)d\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n' $N
} > $D/s.conf
$BIN -n -c $D/s.conf >/dev/null 2>&1 &
PID=$!
sleep 20   # start-up and a few rounds (history fills as it goes)
t0=$(awk '{print $14+$15}' /proc/$PID/stat)
sleep $SECS
t1=$(awk '{print $14+$15}' /proc/$PID/stat)
rss=$(awk '/VmRSS/{print $2}' /proc/$PID/status)
echo "n=$N history=$HIST cpu=$(echo "scale=3; ($t1-$t0)/$SECS" | bc)% rss=${rss}kB"
kill $PID; wait $PID 2>/dev/null
rm -rf $D
