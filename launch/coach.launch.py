"""Start the hinge coaching station: camera_node, alignment_node, feedback_node.

    ros2 launch hinge_coach_ros coach.launch.py [source:=session] [session_file:=...]
        [config_file:=...] [namespace:=...] [led_backend:=sim] [pan_tilt_backend:=sim]
        [display_backend:=sim]

The nodes, parameters and remappings come from hinge_coach_ros.graph, the
same definition the in-process runner (hinge-coach run) uses.
"""

from dataclasses import fields

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from hinge_coach_ros.graph import ARGUMENT_HELP, GraphArgs, build_graph, launch_node_kwargs
from launch import LaunchDescription


def _nodes(context, *args, **kwargs):
    values = {f.name: LaunchConfiguration(f.name).perform(context) for f in fields(GraphArgs)}
    graph_args = GraphArgs(**values)
    return [Node(**launch_node_kwargs(spec, graph_args.namespace)) for spec in build_graph(graph_args)]


def generate_launch_description() -> LaunchDescription:
    defaults = GraphArgs()
    arguments = [
        DeclareLaunchArgument(
            f.name, default_value=str(getattr(defaults, f.name)), description=ARGUMENT_HELP[f.name]
        )
        for f in fields(GraphArgs)
    ]
    return LaunchDescription([*arguments, OpaqueFunction(function=_nodes)])
