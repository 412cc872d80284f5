"""The whole-system benchmark's parts (``bench/bench_system.py`` runs them; ``./dev bench``).

* ``events``: SDK-shaped records, generated once and cached under ``.bench/cache``, produced
  to a topic keyed by user;
* ``measure``: what a process costs, from ``/proc`` (CPU time, peak RSS) and sampled in time;
* ``ceiling``: the bare consumer (a child process of its own) that bounds what any consumer
  in Python can do on the same topic;
* ``pipeline``: ``streamer run`` as a child process, with a generated configuration, timed
  from the first answer of the sandbox to every offset committed;
* ``scenarios``: each measurement of the run, in order;
* ``micro``: the stages alone (mapping, decoding), Segment's own engine when npm is there;
* ``report``: the table printed and the JSON written.
"""
