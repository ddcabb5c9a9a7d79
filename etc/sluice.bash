# bash completion for sluice (installed by `scons install` into
# PREFIX/share/bash-completion/completions/sluice)
_sluice()
{
	local cur prev cmd
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "run stats wordcount state drpc version help" -- "$cur"))
		return
	fi
	case $prev in
	--state|--config|--stats|--dump|--cluster-key-file|--input)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--semantics)
		COMPREPLY=($(compgen -W "opaque transactional none" -- "$cur")); return ;;
	--mode)
		COMPREPLY=($(compgen -W "trident plain" -- "$cur")); return ;;
	esac
	case $cmd in
	run)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--state --memory --config --semantics --no-sync --cache-entries --batch-size --batch-ms --max-pending --batch-timeout --max-attempts --frame-tuples --drpc --metrics --cluster-key-file --stats --quiet --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -X '!*.so' -- "$cur") $(compgen -d -- "$cur"))
		fi ;;
	stats)
		COMPREPLY=($(compgen -W "--endpoint --json --timeout --cluster-key-file --token --help --version" -- "$cur")) ;;
	wordcount)
		COMPREPLY=($(compgen -W "--input --state --memory --semantics --batch-size --batch-ms --max-pending --no-sync --batch-timeout --max-attempts --stats --dump --quiet --drpc --metrics --cluster-key-file --follow --mode --acking --parallelism --max-spout-pending --message-timeout --seed --help --version" -- "$cur")) ;;
	state)
		if [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -W "dump get stats repair upgrade" -- "$cur"))
		else
			COMPREPLY=($(compgen -d -- "$cur"))
		fi ;;
	drpc)
		COMPREPLY=($(compgen -W "--endpoint --timeout --cluster-key-file --help --version" -- "$cur")) ;;
	esac
}
complete -F _sluice sluice
