//! The reference graph's strongly connected components, dependencies first, so files are
//! named leaves-first and every cycle is named as one unit.

/// Tarjan's algorithm, iterative so that deep reference chains cannot overflow the stack.
/// `edges[n]` lists the nodes `n` depends on. Components come out in dependency order:
/// every component appears after all components it depends on. Members are sorted.
pub fn components_in_dependency_order(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNVISITED: usize = usize::MAX;
    let n = edges.len();
    let mut index = vec![UNVISITED; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut next_index = 0;
    // (node, position of the next edge to look at)
    let mut call_stack: Vec<(usize, usize)> = Vec::new();

    for root in 0..n {
        if index[root] != UNVISITED {
            continue;
        }
        call_stack.push((root, 0));
        while let Some(&mut (node, ref mut edge)) = call_stack.last_mut() {
            if *edge == 0 && index[node] == UNVISITED {
                index[node] = next_index;
                low[node] = next_index;
                next_index += 1;
                stack.push(node);
                on_stack[node] = true;
            }
            if let Some(&dep) = edges[node].get(*edge) {
                *edge += 1;
                if index[dep] == UNVISITED {
                    call_stack.push((dep, 0));
                } else if on_stack[dep] {
                    low[node] = low[node].min(index[dep]);
                }
                continue;
            }
            call_stack.pop();
            if let Some(&(parent, _)) = call_stack.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                component.sort_unstable();
                components.push(component);
            }
        }
    }
    components
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(components: &[Vec<usize>], node: usize) -> usize {
        components.iter().position(|c| c.contains(&node)).unwrap()
    }

    #[test]
    fn dependencies_come_first() {
        // 0 (html) -> 1 (css) -> 2 (font); 0 -> 3 (js)
        let edges = vec![vec![1, 3], vec![2], vec![], vec![]];
        let c = components_in_dependency_order(&edges);
        assert_eq!(c.len(), 4);
        assert!(position(&c, 2) < position(&c, 1));
        assert!(position(&c, 1) < position(&c, 0));
        assert!(position(&c, 3) < position(&c, 0));
    }

    #[test]
    fn cycles_are_one_component() {
        // 0 -> 1 <-> 2 -> 3, and 4 -> 4
        let edges = vec![vec![1], vec![2], vec![1, 3], vec![], vec![4]];
        let c = components_in_dependency_order(&edges);
        assert!(c.contains(&vec![1, 2]));
        assert!(c.contains(&vec![4]));
        assert!(position(&c, 3) < position(&c, 1));
        assert!(position(&c, 1) < position(&c, 0));
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let n = 200_000;
        let edges: Vec<Vec<usize>> = (0..n)
            .map(|i| if i + 1 < n { vec![i + 1] } else { vec![] })
            .collect();
        let c = components_in_dependency_order(&edges);
        assert_eq!(c.len(), n);
        assert_eq!(c[0], vec![n - 1]);
    }
}
