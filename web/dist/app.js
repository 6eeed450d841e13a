var ae,w,Pe,vt,I,Se,Ne,Le,ue,Z,W,Ae,pe,_e,de,$t,ne={},se=[],yt=/acit|ex(?:s|g|n|p|$)|rph|grid|ows|mnc|ntw|ine[ch]|zoo|^ord|itera/i,oe=Array.isArray;function H(t,e){for(var n in e)t[n]=e[n];return t}function fe(t){t&&t.parentNode&&t.parentNode.removeChild(t)}function me(t,e,n){var s,l,r,c={};for(r in e)r=="key"?s=e[r]:r=="ref"?l=e[r]:c[r]=e[r];if(arguments.length>2&&(c.children=arguments.length>3?ae.call(arguments,2):n),typeof t=="function"&&t.defaultProps!=null)for(r in t.defaultProps)c[r]===void 0&&(c[r]=t.defaultProps[r]);return ee(t,c,s,l,null)}function ee(t,e,n,s,l){var r={type:t,props:e,key:n,ref:s,__k:null,__:null,__b:0,__e:null,__c:null,constructor:void 0,__v:l??++Pe,__i:-1,__u:0};return l==null&&w.vnode!=null&&w.vnode(r),r}function ie(t){return t.children}function te(t,e){this.props=t,this.context=e}function M(t,e){if(e==null)return t.__?M(t.__,t.__i+1):null;for(var n;e<t.__k.length;e++)if((n=t.__k[e])!=null&&n.__e!=null)return n.__e;return typeof t.type=="function"?M(t):null}function gt(t){if(t.__P&&t.__d){var e=t.__v,n=e.__e,s=[],l=[],r=H({},e);r.__v=e.__v+1,w.vnode&&w.vnode(r),he(t.__P,r,e,t.__n,t.__P.namespaceURI,32&e.__u?[n]:null,s,n??M(e),!!(32&e.__u),l),r.__v=e.__v,r.__.__k[r.__i]=r,Re(s,r,l),e.__e=e.__=null,r.__e!=n&&De(r)}}function De(t){if((t=t.__)!=null&&t.__c!=null)return t.__e=t.__c.base=null,t.__k.some(function(e){if(e!=null&&e.__e!=null)return t.__e=t.__c.base=e.__e}),De(t)}function Ce(t){(!t.__d&&(t.__d=!0)&&I.push(t)&&!re.__r++||Se!=w.debounceRendering)&&((Se=w.debounceRendering)||Ne)(re)}function re(){try{for(var t,e=1;I.length;)I.length>e&&I.sort(Le),t=I.shift(),e=I.length,gt(t)}finally{I.length=re.__r=0}}function Ue(t,e,n,s,l,r,c,_,i,o,u){var f,a,m,y,b,g,x=s&&s.__k||se,$=e.length;for(i=bt(n,e,x,i,$),f=0;f<$;f++)(m=n.__k[f])!=null&&(a=m.__i!=-1&&x[m.__i]||ne,m.__i=f,g=he(t,m,a,l,r,c,_,i,o,u),y=m.__e,m.ref&&a.ref!=m.ref&&(a.ref&&ve(a.ref,null,m),u.push(m.ref,m.__c||y,m)),b==null&&y!=null&&(b=y),4&m.__u?(i=qe(m,i,t),a.__e&&(a.__e=null)):typeof m.type=="function"&&g!==void 0?i=g:y&&(i=y.nextSibling),m.__u&=-7);return n.__e=b,i}function bt(t,e,n,s,l){var r,c,_,i,o,u=n.length,f=u,a=0;for(t.__k=new Array(l),r=0;r<l;r++)(c=e[r])!=null&&typeof c!="boolean"&&typeof c!="function"?(typeof c=="string"||typeof c=="number"||typeof c=="bigint"||c.constructor==String?c=t.__k[r]=ee(null,c,null,null,null):oe(c)?c=t.__k[r]=ee(ie,{children:c},null,null,null):c.constructor===void 0&&c.__b>0?c=t.__k[r]=ee(c.type,c.props,c.key,c.ref?c.ref:null,c.__v):t.__k[r]=c,i=r+a,c.__=t,c.__b=t.__b+1,_=null,(o=c.__i=kt(c,n,i,f))!=-1&&(f--,(_=n[o])&&(_.__u|=2)),_==null||_.__v==null?(o==-1&&(l>u?a--:l<u&&a++),typeof c.type!="function"&&(c.__u|=4)):o!=i&&(o==i-1?a--:o==i+1?a++:(o>i?a--:a++,c.__u|=4))):t.__k[r]=null;if(f)for(r=0;r<u;r++)(_=n[r])!=null&&(2&_.__u)==0&&(_.__e==s&&(s=M(_)),Fe(_,_));return s}function qe(t,e,n){var s,l;if(typeof t.type=="function"){for(s=t.__k,l=0;s&&l<s.length;l++)s[l]&&(s[l].__=t,e=qe(s[l],e,n));return e}t.__e!=e&&(e&&t.type&&!e.parentNode&&(e=M(t)),e=n.insertBefore(t.__e,e||null));do e=e&&e.nextSibling;while(e!=null&&e.nodeType==8);return e}function kt(t,e,n,s){var l,r,c,_=t.key,i=t.type,o=e[n],u=o!=null&&(2&o.__u)==0;if(o===null&&_==null||u&&_==o.key&&i==o.type)return n;if(s>(u?1:0)){for(l=n-1,r=n+1;l>=0||r<e.length;)if((o=e[c=l>=0?l--:r++])!=null&&(2&o.__u)==0&&_==o.key&&i==o.type)return c}return-1}function Ee(t,e,n){e[0]=="-"?t.setProperty(e,n??""):t[e]=n==null?"":typeof n!="number"||yt.test(e)?n:n+"px"}function Y(t,e,n,s,l){var r,c;e:if(e=="style")if(typeof n=="string")t.style.cssText=n;else{if(typeof s=="string"&&(t.style.cssText=s=""),s)for(e in s)n&&e in n||Ee(t.style,e,"");if(n)for(e in n)s&&n[e]==s[e]||Ee(t.style,e,n[e])}else if(e[0]=="o"&&e[1]=="n")r=e!=(e=e.replace(Ae,"$1")),c=e.toLowerCase(),e=c in t||e=="onFocusOut"||e=="onFocusIn"?c.slice(2):e.slice(2),t.l||(t.l={}),t.l[e+r]=n,n?s?n[W]=s[W]:(n[W]=pe,t.addEventListener(e,r?de:_e,r)):t.removeEventListener(e,r?de:_e,r);else{if(l=="http://www.w3.org/2000/svg")e=e.replace(/xlink(H|:h)/,"h").replace(/sName$/,"s");else if(e!="width"&&e!="height"&&e!="href"&&e!="list"&&e!="form"&&e!="tabIndex"&&e!="download"&&e!="rowSpan"&&e!="colSpan"&&e!="role"&&e!="popover"&&e in t)try{t[e]=n??"";break e}catch{}typeof n=="function"||(n==null||n===!1&&e[4]!="-"?t.removeAttribute(e):t.setAttribute(e,e=="popover"&&n==1?"":n))}}function Te(t){return function(e){if(this.l){var n=this.l[e.type+t];if(e[Z]==null)e[Z]=pe++;else if(e[Z]<n[W])return;return n(w.event?w.event(e):e)}}}function he(t,e,n,s,l,r,c,_,i,o){var u,f,a,m,y,b,g,x,$,P,p,v,k,U,L,A,E=e.type;if(e.constructor!==void 0)return null;128&n.__u&&(i=!!(32&n.__u),r=[_=e.__e=n.__e]),(u=w.__b)&&u(e);e:if(typeof E=="function"){f=c.length;try{if($=e.props,P=E.prototype&&E.prototype.render,p=(u=E.contextType)&&s[u.__c],v=u?p?p.props.value:u.__:s,n.__c?x=(a=e.__c=n.__c).__=a.__E:(P?e.__c=a=new E($,v):(e.__c=a=new te($,v),a.constructor=E,a.render=xt),p&&p.sub(a),a.state||(a.state={}),a.__n=s,m=a.__d=!0,a.__h=[],a._sb=[]),P&&a.__s==null&&(a.__s=a.state),P&&E.getDerivedStateFromProps!=null&&(a.__s==a.state&&(a.__s=H({},a.__s)),H(a.__s,E.getDerivedStateFromProps($,a.__s))),y=a.props,b=a.state,a.__v=e,m)P&&E.getDerivedStateFromProps==null&&a.componentWillMount!=null&&a.componentWillMount(),P&&a.componentDidMount!=null&&a.__h.push(a.componentDidMount);else{if(P&&E.getDerivedStateFromProps==null&&$!==y&&a.componentWillReceiveProps!=null&&a.componentWillReceiveProps($,v),e.__v==n.__v||!a.__e&&a.shouldComponentUpdate!=null&&a.shouldComponentUpdate($,a.__s,v)===!1){e.__v!=n.__v&&(a.props=$,a.state=a.__s,a.__d=!1),e.__e=n.__e,e.__k=n.__k,e.__k.some(function(N){N&&(N.__=e)}),se.push.apply(a.__h,a._sb),a._sb=[],a.__h.length&&c.push(a),_=M(n);break e}a.componentWillUpdate!=null&&a.componentWillUpdate($,a.__s,v),P&&a.componentDidUpdate!=null&&a.__h.push(function(){a.componentDidUpdate(y,b,g)})}if(a.context=v,a.props=$,a.__P=t,a.__e=!1,k=w.__r,U=0,P)a.state=a.__s,a.__d=!1,k&&k(e),u=a.render(a.props,a.state,a.context),se.push.apply(a.__h,a._sb),a._sb=[];else do a.__d=!1,k&&k(e),u=a.render(a.props,a.state,a.context),a.state=a.__s;while(a.__d&&++U<25);a.state=a.__s,a.getChildContext!=null&&(s=H(H({},s),a.getChildContext())),P&&!m&&a.getSnapshotBeforeUpdate!=null&&(g=a.getSnapshotBeforeUpdate(y,b)),L=u!=null&&u.type===ie&&u.key==null?Ie(u.props.children):u,_=Ue(t,oe(L)?L:[L],e,n,s,l,r,c,_,i,o),a.base=e.__e,e.__u&=-161,a.__h.length&&c.push(a),x&&(a.__E=a.__=null)}catch(N){if(c.length=f,e.__v=null,i||r!=null){if(N.then){for(e.__u|=i?160:128;_&&_.nodeType==8&&_.nextSibling;)_=_.nextSibling;r!=null&&(r[r.indexOf(_)]=null),e.__e=_}else if(r!=null)for(A=r.length;A--;)fe(r[A])}else e.__e=n.__e;e.__k==null&&(e.__k=n.__k||[]),N.then||He(e),w.__e(N,e,n)}}else r==null&&e.__v==n.__v?(e.__k=n.__k,e.__e=n.__e):_=e.__e=wt(n.__e,e,n,s,l,r,c,i,o);return(u=w.diffed)&&u(e),128&e.__u?void 0:_}function He(t){t&&(t.__c&&(t.__c.__e=!0),t.__k&&t.__k.some(He))}function Re(t,e,n){for(var s=0;s<n.length;s++)ve(n[s],n[++s],n[++s]);w.__c&&w.__c(e,t),t.some(function(l){try{t=l.__h,l.__h=[],t.some(function(r){r.call(l)})}catch(r){w.__e(r,l.__v)}})}function Ie(t){return typeof t!="object"||t==null||t.__b>0?t:oe(t)?t.map(Ie):t.constructor!==void 0?null:H({},t)}function wt(t,e,n,s,l,r,c,_,i){var o,u,f,a,m,y,b,g=n.props||ne,x=e.props,$=e.type;if($=="svg"?l="http://www.w3.org/2000/svg":$=="math"?l="http://www.w3.org/1998/Math/MathML":l||(l="http://www.w3.org/1999/xhtml"),r!=null){for(o=0;o<r.length;o++)if((m=r[o])&&"setAttribute"in m==!!$&&($?m.localName==$:m.nodeType==3)){t=m,r[o]=null;break}}if(t==null){if($==null)return document.createTextNode(x);t=document.createElementNS(l,$,x.is&&x),_&&(w.__m&&w.__m(e,r),_=!1),r=null}if($==null)g===x||_&&t.data==x||(t.data=x);else{if(r=$=="textarea"&&x.defaultValue!=null?null:r&&ae.call(t.childNodes),!_&&r!=null)for(g={},o=0;o<t.attributes.length;o++)g[(m=t.attributes[o]).name]=m.value;for(o in g)m=g[o],o=="dangerouslySetInnerHTML"?f=m:o=="children"||o in x||o=="value"&&"defaultValue"in x||o=="checked"&&"defaultChecked"in x||Y(t,o,null,m,l);for(o in x)m=x[o],o=="children"?a=m:o=="dangerouslySetInnerHTML"?u=m:o=="value"?y=m:o=="checked"?b=m:_&&typeof m!="function"||g[o]===m||Y(t,o,m,g[o],l);if(u)_||f&&(u.__html==f.__html||u.__html==t.innerHTML)||(t.innerHTML=u.__html),e.__k=[];else if(f&&(t.innerHTML=""),Ue(e.type=="template"?t.content:t,oe(a)?a:[a],e,n,s,$=="foreignObject"?"http://www.w3.org/1999/xhtml":l,r,c,r?r[0]:n.__k&&M(n,0),_,i),r!=null)for(o=r.length;o--;)fe(r[o]);_&&$!="textarea"||(o="value",$=="progress"&&y==null?t.removeAttribute("value"):y!=null&&(y!==t[o]||$=="progress"&&!y||$=="option"&&y!=g[o])&&Y(t,o,y,g[o],l),o="checked",b!=null&&b!=t[o]&&Y(t,o,b,g[o],l))}return t}function ve(t,e,n){try{if(typeof t=="function"){var s=typeof t.__u=="function";s&&t.__u(),s&&e==null||(t.__u=t(e))}else t.current=e}catch(l){w.__e(l,n)}}function Fe(t,e,n){var s,l;if(w.unmount&&w.unmount(t),(s=t.ref)&&(s.current&&s.current!=t.__e||ve(s,null,e)),(s=t.__c)!=null){if(s.componentWillUnmount)try{s.componentWillUnmount()}catch(r){w.__e(r,e)}s.base=s.__P=s.__n=null}if(s=t.__k)for(l=0;l<s.length;l++)s[l]&&Fe(s[l],e,n||typeof t.type!="function");n||fe(t.__e),t.__c=t.__=t.__e=void 0}function xt(t,e,n){return this.constructor(t,n)}function Me(t,e,n){var s,l,r,c;e==document&&(e=document.documentElement),w.__&&w.__(t,e),l=(s=typeof n=="function")?null:n&&n.__k||e.__k,r=[],c=[],he(e,t=(!s&&n||e).__k=me(ie,null,[t]),l||ne,ne,e.namespaceURI,!s&&n?[n]:l?null:e.firstChild?ae.call(e.childNodes):null,r,!s&&n?n:l?l.__e:e.firstChild,s,c),Re(r,t,c),t.props.children=null}ae=se.slice,w={__e:function(t,e,n,s){for(var l,r,c;e=e.__;)if((l=e.__c)&&!l.__)try{if((r=l.constructor)&&r.getDerivedStateFromError!=null&&(l.setState(r.getDerivedStateFromError(t)),c=l.__d),l.componentDidCatch!=null&&(l.componentDidCatch(t,s||{}),c=l.__d),c)return l.__E=l}catch(_){t=_}throw t}},Pe=0,vt=function(t){return t!=null&&t.constructor===void 0},te.prototype.setState=function(t,e){var n;n=this.__s!=null&&this.__s!=this.state?this.__s:this.__s=H({},this.state),typeof t=="function"&&(t=t(H({},n),this.props)),t&&H(n,t),t!=null&&this.__v&&(e&&this._sb.push(e),Ce(this))},te.prototype.forceUpdate=function(t){this.__v&&(this.__e=!0,t&&this.__h.push(t),Ce(this))},te.prototype.render=ie,I=[],Ne=typeof Promise=="function"?Promise.prototype.then.bind(Promise.resolve()):setTimeout,Le=function(t,e){return t.__v.__b-e.__v.__b},re.__r=0,ue=Math.random().toString(8),Z="__d"+ue,W="__a"+ue,Ae=/(PointerCapture)$|Capture$/i,pe=0,_e=Te(!1),de=Te(!0),$t=0;var B,S,$e,Oe,z=0,Ke=[],T=w,je=T.__b,We=T.__r,Be=T.diffed,ze=T.__c,Ge=T.unmount,Ve=T.__;function ge(t,e){T.__h&&T.__h(S,t,z||e),z=0;var n=S.__H||(S.__H={__:[],__h:[]});return t>=n.__.length&&n.__.push({}),n.__[t]}function h(t){return z=1,St(Ye,t)}function St(t,e,n){var s=ge(B++,2);if(s.t=t,!s.__c&&(s.__=[n?n(e):Ye(void 0,e),function(_){var i=s.__N?s.__N[0]:s.__[0],o=s.t(i,_);i!==o&&(s.__N=[o,s.__[1]],s.__c.setState({}))}],s.__c=S,!S.__f)){var l=function(_,i,o){if(!s.__c.__H)return!0;var u=!1,f=s.__c.props!==_;if(s.__c.__H.__.some(function(m){if(m.__N){u=!0;var y=m.__[0];m.__=m.__N,m.__N=void 0,y!==m.__[0]&&(f=!0)}}),r){var a=r.call(this,_,i,o);return u?a||f:a}return!u||f};S.__f=!0;var r=S.shouldComponentUpdate,c=S.componentWillUpdate;S.componentWillUpdate=function(_,i,o){if(this.__e){var u=r;r=void 0,l(_,i,o),r=u}c&&c.call(this,_,i,o)},S.shouldComponentUpdate=l}return s.__N||s.__}function D(t,e){var n=ge(B++,3);!T.__s&&Xe(n.__H,e)&&(n.__=t,n.u=e,S.__H.__h.push(n))}function G(t){return z=5,Qe(function(){return{current:t}},[])}function Qe(t,e){var n=ge(B++,7);return Xe(n.__H,e)&&(n.__=t(),n.__H=e,n.__h=t),n.__}function R(t,e){return z=8,Qe(function(){return t},e)}function Ct(){for(var t;t=Ke.shift();){var e=t.__H;if(t.__P&&e)try{e.__h.some(le),e.__h.some(ye),e.__h=[]}catch(n){e.__h=[],T.__e(n,t.__v)}}}T.__b=function(t){S=null,je&&je(t)},T.__=function(t,e){t&&e.__k&&e.__k.__m&&(t.__m=e.__k.__m),Ve&&Ve(t,e)},T.__r=function(t){We&&We(t),B=0;var e=(S=t.__c).__H;e&&($e===S?(e.__h=[],S.__h=[],e.__.some(function(n){n.__N&&(n.__=n.__N),n.u=n.__N=void 0})):(e.__h.some(le),e.__h.some(ye),e.__h=[],B=0)),$e=S},T.diffed=function(t){Be&&Be(t);var e=t.__c;e&&e.__H&&(e.__H.__h.length&&(Ke.push(e)!==1&&Oe===T.requestAnimationFrame||((Oe=T.requestAnimationFrame)||Et)(Ct)),e.__H.__.some(function(n){n.u&&(n.__H=n.u,n.u=void 0)})),$e=S=null},T.__c=function(t,e){e.some(function(n){try{n.__h.some(le),n.__h=n.__h.filter(function(s){return!s.__||ye(s)})}catch(s){e.some(function(l){l.__h&&(l.__h=[])}),e=[],T.__e(s,n.__v)}}),ze&&ze(t,e)},T.unmount=function(t){Ge&&Ge(t);var e,n=t.__c;n&&n.__H&&(n.__H.__.some(function(s){try{le(s)}catch(l){e=l}}),n.__H=void 0,e&&T.__e(e,n.__v))};var Je=typeof requestAnimationFrame=="function";function Et(t){var e,n=function(){clearTimeout(s),Je&&cancelAnimationFrame(e),setTimeout(t)},s=setTimeout(n,35);Je&&(e=requestAnimationFrame(n))}function le(t){var e=S,n=t.__c;typeof n=="function"&&(t.__c=void 0,n()),S=e}function ye(t){var e=S;t.__c=t.__(),S=e}function Xe(t,e){return!t||t.length!==e.length||e.some(function(n,s){return n!==t[s]})}function Ye(t,e){return typeof e=="function"?e(t):e}var et=function(t,e,n,s){var l;e[0]=0;for(var r=1;r<e.length;r++){var c=e[r++],_=e[r]?(e[0]|=c?1:2,n[e[r++]]):e[++r];c===3?s[0]=_:c===4?s[1]=Object.assign(s[1]||{},_):c===5?(s[1]=s[1]||{})[e[++r]]=_:c===6?s[1][e[++r]]+=_+"":c?(l=t.apply(_,et(t,_,n,["",null])),s.push(l),_[0]?e[0]|=2:(e[r-2]=0,e[r]=l)):s.push(_)}return s},Ze=new Map;function tt(t){var e=Ze.get(this);return e||(e=new Map,Ze.set(this,e)),(e=et(this,e.get(t)||(e.set(t,e=(function(n){for(var s,l,r=1,c="",_="",i=[0],o=function(a){r===1&&(a||(c=c.replace(/^\s*\n\s*|\s*\n\s*$/g,"")))?i.push(0,a,c):r===3&&(a||c)?(i.push(3,a,c),r=2):r===2&&c==="..."&&a?i.push(4,a,0):r===2&&c&&!a?i.push(5,0,!0,c):r>=5&&((c||!a&&r===5)&&(i.push(r,0,c,l),r=6),a&&(i.push(r,a,0,l),r=6)),c=""},u=0;u<n.length;u++){u&&(r===1&&o(),o(u));for(var f=0;f<n[u].length;f++)s=n[u][f],r===1?s==="<"?(o(),i=[i],r=3):c+=s:r===4?c==="--"&&s===">"?(r=1,c=""):c=s+c[0]:_?s===_?_="":c+=s:s==='"'||s==="'"?_=s:s===">"?(o(),r=1):r&&(s==="="?(r=5,l=c,c=""):s==="/"&&(r<5||n[u][f+1]===">")?(o(),r===3&&(i=i[0]),r=i,(i=i[0]).push(2,0,r),r=0):s===" "||s==="	"||s===`
`||s==="\r"?(o(),r=2):c+=s),r===3&&c==="!--"&&(r=4,i=i[0])}return o(),i})(t)),e),arguments,[])).length>1?e:e[0]}var d=tt.bind(me);var J=null,nt=()=>{};function Q(t){J=t||null}function st(t){nt=t}var K=class extends Error{constructor(e,n,s){super(n),this.status=e,this.field=s}};async function C(t,e,n){let s={};J&&t!=="GET"&&t!=="HEAD"&&(s["X-CSRF-Token"]=J);let l;n instanceof Blob?(s["Content-Type"]="application/octet-stream",l=n):typeof n=="string"?(s["Content-Type"]="text/plain; charset=utf-8",l=n):n!==void 0&&(s["Content-Type"]="application/json",l=JSON.stringify(n));let r=await fetch(e,{method:t,headers:s,body:l,credentials:"same-origin"}),_=(r.headers.get("content-type")||"").includes("json")?await r.json():await r.text();if(!r.ok){r.status===401&&!e.startsWith("/v1/session")&&nt();let i=_&&_.error||`${r.status} ${r.statusText}`;throw new K(r.status,i,_&&_.field)}return _}var be={item:new Set,queues:new Set,status:new Set},q=null;function F(t,e){return be[t].add(e),()=>be[t].delete(e)}function V(t,e){for(let n of be[t])try{n(e)}catch(s){console.error(s)}}function rt(){q||(q=new EventSource("/v1/events"),q.addEventListener("open",()=>V("status",!0)),q.addEventListener("error",()=>V("status",!1)),q.addEventListener("hello",()=>V("status",!0)),q.addEventListener("item",t=>V("item",JSON.parse(t.data))),q.addEventListener("queues",t=>V("queues",JSON.parse(t.data))))}function ke(){q&&q.close(),q=null}function j(t,e){let n=null;return(...s)=>{clearTimeout(n),n=setTimeout(()=>t(...s),e)}}function X(t){if(t==null)return"";let e=Math.round(t/1e3);return`${Math.floor(e/60)}:${String(e%60).padStart(2,"0")}`}var at=["pending","researching","resolved","duplicate","discovering","ranked","awaiting_approval","downloading","verifying","filed","failed"];function O(t){return String(t||"").replace(/_/g," ")}function ce(t){return typeof t=="string"&&/^https?:\/\//i.test(t)?t:null}function ot(){return J?{"X-CSRF-Token":J}:{}}function Tt({onCreated:t}){let[e,n]=h("paste"),[s,l]=h(""),[r,c]=h(null),[_,i]=h(""),[o,u]=h(""),[f,a]=h("interactive"),[m,y]=h(!1),[b,g]=h(null),[x,$]=h(null);return d`
    <section class="card">
      <h2>New sync</h2>
      <form onSubmit=${async p=>{p.preventDefault(),y(!0),$(null),g(null);try{let v;if(e==="file"){if(!r)throw new Error("choose a playlist file first");let k=new URLSearchParams({source:r.name,lane:f});o.trim()&&k.set("name",o.trim()),v=await C("POST",`/v1/syncs?${k}`,r)}else e==="url"?v=await C("POST","/v1/syncs",{url:_.trim(),lane:f,...o.trim()?{name:o.trim()}:{}}):v=await C("POST","/v1/syncs",{playlist:s,source:"pasted.txt",lane:f,...o.trim()?{name:o.trim()}:{}});g(v),l(""),t(v)}catch(v){$(v.field?`${v.field}: ${v.message}`:v.message)}finally{y(!1)}}} id="create-sync">
        <div class="modes">
          ${[["paste","Paste"],["file","File"],["url","Address"]].map(([p,v])=>d`
            <label><input type="radio" name="mode" value=${p} checked=${e===p}
              onChange=${()=>n(p)} id=${"mode-"+p} /> ${v}</label>`)}
        </div>
        ${e==="paste"&&d`
          <textarea id="playlist-text" rows="6" placeholder="Artist - Title, one per line (or M3U / CSV)"
            value=${s} onInput=${p=>l(p.target.value)}></textarea>`}
        ${e==="file"&&d`
          <input id="playlist-file" type="file" accept=".m3u,.m3u8,.csv,.txt"
            onChange=${p=>c(p.target.files[0]||null)} />`}
        ${e==="url"&&d`
          <input id="playlist-url" type="url" placeholder="https://open.spotify.com/playlist/…"
            value=${_} onInput=${p=>i(p.target.value)} />`}
        <div class="row">
          <label>Name <input id="sync-name" value=${o} onInput=${p=>u(p.target.value)} /></label>
          <label>Lane <select id="sync-lane" value=${f} onChange=${p=>a(p.target.value)}>
            <option value="interactive">interactive</option>
            <option value="batch">batch</option>
            <option value="background">background</option>
          </select></label>
          <button type="submit" id="create-submit" disabled=${m}>${m?"Creating…":"Create sync"}</button>
        </div>
      </form>
      ${x&&d`<p class="error" role="alert">${x}</p>`}
      ${b&&d`
        <p class="ok" id="create-result">${`Sync created: ${b.items} items (${b.format}), ${b.skipped.length} lines skipped.`}</p>
        ${b.skipped.length>0&&d`<ul class="skipped">
          ${b.skipped.map(p=>d`<li>line ${p.line_no}: ${p.input} — ${p.reason}</li>`)}
        </ul>`}`}
    </section>`}function Pt({counts:t}){return d`<span class="counts">
    ${at.filter(e=>t[e]>0).map(e=>d`
      <span class=${"chip state-"+e} data-state=${e}>${O(e)} ${t[e]}</span>`)}
  </span>`}function Nt({syncId:t,version:e}){let[n,s]=h(null),[l,r]=h(null),[c,_]=h({}),i=R(async()=>{try{s(await C("GET",`/v1/syncs/${t}/items?limit=500`))}catch(u){r(u.message)}},[t]);D(()=>{i()},[i,e]);let o=async u=>{try{let f=await C("POST",`/v1/items/${u}/retry`);_({...c,[u]:`retrying (${O(f.state)})`}),i()}catch(f){_({...c,[u]:f.message})}};return l?d`<p class="error">${l}</p>`:n?d`
    <table class="items">
      <thead><tr><th>line</th><th>wanted</th><th>state</th><th>why / result</th><th></th></tr></thead>
      <tbody>
        ${n.map(u=>d`
          <tr key=${u.id} data-item=${u.id} class=${"state-"+u.state}>
            <td>${u.line_no}</td>
            <td class="title">${u.input_line}</td>
            <td><span class=${"chip state-"+u.state}>${O(u.state)}</span></td>
            <td class="reason">${u.track?`${u.track.artist} - ${u.track.title}${u.track.mix?` (${u.track.mix})`:""}`:""}
              ${u.reason?d`<div>${u.reason}</div>`:""}
              ${c[u.id]?d`<div class="note">${c[u.id]}</div>`:""}</td>
            <td>${u.state==="failed"&&d`<button class="retry" onClick=${()=>o(u.id)}>Retry</button>`}</td>
          </tr>`)}
      </tbody>
    </table>`:d`<p>Loading items…</p>`}function it(){let[t,e]=h(null),[n,s]=h(null),[l,r]=h(0),[c,_]=h(null),i=R(async()=>{try{e(await C("GET","/v1/syncs?limit=30")),_(null)}catch(o){_(o.message)}},[]);return D(()=>{i();let o=j(()=>{i(),r(u=>u+1)},300);return F("item",o)},[i]),d`
    <${Tt} onCreated=${o=>{s(o.sync_id),i()}} />
    <section class="card">
      <h2>Syncs</h2>
      ${c&&d`<p class="error">${c}</p>`}
      ${t&&t.length===0&&d`<p>No sync yet.</p>`}
      <ul class="syncs">
        ${(t||[]).map(o=>{let u=(o.counts.filed||0)+(o.counts.failed||0)+(o.counts.duplicate||0)+(o.counts.resolved||0)+(o.counts.awaiting_approval||0);return d`
          <li key=${o.sync_id} class="sync" data-sync=${o.sync_id}>
            <button class="link sync-name" onClick=${()=>s(n===o.sync_id?null:o.sync_id)}>
              ${n===o.sync_id?"▾":"▸"} ${o.name}</button>
            <span class="muted"> ${o.total} items · ${o.lane} · ${new Date(o.created_at).toLocaleString()}</span>
            <div><progress max=${o.total||1} value=${u}></progress>
              ${o.finished?d`<span class="chip done">settled</span>`:""}</div>
            <${Pt} counts=${o.counts} />
            ${n===o.sync_id&&d`<${Nt} syncId=${o.sync_id} version=${l} />`}
          </li>`})}
      </ul>
    </section>`}function Lt(t){let e=[];return t.format&&e.push(t.format.toUpperCase()),t.bitrate_kbps&&e.push(`${t.bitrate_kbps} kbps`),t.sample_rate_hz&&e.push(`${(t.sample_rate_hz/1e3).toFixed(1)} kHz`),t.bit_depth&&e.push(`${t.bit_depth} bit`),t.duration_ms&&e.push(X(t.duration_ms)),t.size_bytes&&e.push(`${(t.size_bytes/1e6).toFixed(1)} MB`),t.price&&e.push(t.price),e.join(" · ")}function At(t){if(!t.peer)return"";let e=t.peer,n=[e.username];return e.has_free_slot!=null&&n.push(e.has_free_slot?"free slot":"no free slot"),e.queue_length!=null&&n.push(`queue ${e.queue_length}`),n.join(", ")}function Dt(t){return t.state==="rejected_file"?d`<span class="bad">refused after download: ${t.failure}</span>`:t.state==="failed"?d`<span class="bad">download failed: ${t.failure}</span>`:t.state==="filed"?d`<span class="ok">verified and filed</span>`:t.state!=="offered"?d`<span>${O(t.state)}</span>`:d`<span class="muted">not verified yet (checked after download)</span>`}function Ut({row:t,picked:e,onPick:n}){let s=t.candidate;return d`
    <li class=${"cand"+(e?" picked":"")} data-rank=${t.rank} onClick=${n}>
      <div class="cand-head">
        <span class="rank">${t.rank}</span>
        <span class="score" title="total score">${t.score.toFixed(1)}</span>
        <span class="src">${s.source}</span>
        <span class="cand-title">${s.artist?`${s.artist} - `:""}${s.title}</span>
      </div>
      <div class="props">${Lt(s)}${s.peer?d` · peer <span class="peer">${At(s)}</span>`:""}</div>
      <div class="verdict">${Dt(t)}</div>
      <ul class="factors">
        ${(t.factors||[]).map(l=>d`
          <li class=${l.points>=0?"plus":"minus"}>${l.factor} ${l.points>=0?"+":""}${l.points.toFixed(0)}
            <span class="muted"> (${l.detail})</span></li>`)}
      </ul>
      ${ce(s.preview_url)&&d`<audio controls preload="none" src=${ce(s.preview_url)}></audio>`}
    </li>`}function qt({entry:t,selected:e,picked:n,onPick:s,onApprove:l,onReject:r,status:c,cardRef:_}){let i=t.item;return d`
    <article class=${"review-item"+(e?" selected":"")} data-item=${i.id} ref=${e?_:void 0}>
      <h3 class="title">${i.input_line}</h3>
      <div class="muted">line ${i.line_no}${i.track?` · resolved as ${i.track.artist} - ${i.track.title}${i.track.mix?` (${i.track.mix})`:""}`:" · on no metadata platform: searched as written"}</div>
      <ol class="cands">
        ${t.top.map(o=>d`<${Ut} key=${o.id} row=${o} picked=${n===o.rank}
          onPick=${()=>s(o.rank)} />`)}
      </ol>
      ${t.more_ranked>0&&d`<p class="muted">${t.more_ranked} more ranked copies (cratedigger candidates ${i.id}).</p>`}
      ${t.options.length>0&&d`<p class="muted">Buy / listen: ${t.options.slice(0,3).map((o,u)=>d`${u?", ":""}<a href=${ce(o.candidate.url)} rel="noopener noreferrer" target="_blank">${o.candidate.source}${o.candidate.price?` ${o.candidate.price}`:""}</a>`)}</p>`}
      ${t.filtered_out>0&&d`<p class="muted">${t.filtered_out} copies filtered out by a required condition.</p>`}
      <div class="actions">
        <button class="approve" onClick=${l}>Approve #${n}</button>
        <button class="reject" onClick=${r}>Reject all</button>
        ${c&&d`<span class="status">${c}</span>`}
      </div>
    </article>`}function lt(){let[t,e]=h(null),[n,s]=h(null),[l,r]=h({}),[c,_]=h({}),[i,o]=h([]),[u,f]=h(null),a=G(null),m=G({}),y=R(async()=>{try{let p=await C("GET","/v1/review?limit=100");e(p.items),f(null),s(v=>p.items.some(k=>k.item.id===v)?v:p.items[0]?p.items[0].item.id:null)}catch(p){f(p.message)}},[]);D(()=>{y();let p=j(y,400);return F("item",v=>{o(k=>k.map(U=>U.id===v.item_id?{...U,state:v.to,reason:v.reason}:U)),(v.to==="awaiting_approval"||v.from==="awaiting_approval")&&p()})},[y]);let b=t||[],g=b.findIndex(p=>p.item.id===n),x=g>=0?b[g]:null,$=p=>l[p]||1,P=async(p,v)=>{let k=p.item.id,U=$(k);try{v==="approve"?await C("POST",`/v1/items/${k}/approve`,{rank:U,by:"web review"}):await C("POST",`/v1/items/${k}/reject`,{by:"web review",reason:"rejected on the review page"});let L=v==="approve"?`approved #${U}`:"rejected";_(E=>({...E,[k]:L})),o(E=>[{id:k,line:p.item.input_line,what:L,state:"awaiting_approval"},...E].slice(0,50));let A=b.slice(g+1).find(E=>!c[E.item.id]&&E.item.id!==k);A&&s(A.item.id)}catch(L){_(A=>({...A,[k]:L.message}))}};return m.current={list:b,idx:g,current:x,decide:P,pickOf:$},D(()=>{let p=v=>{let k=v.target;if(k&&(k.tagName==="INPUT"||k.tagName==="TEXTAREA"||k.tagName==="SELECT"||k.isContentEditable)||v.ctrlKey||v.metaKey||v.altKey)return;let{list:U,idx:L,current:A,decide:E}=m.current;if(!A)return;let N=v.key;if(N==="j"||N==="ArrowDown")L+1<U.length&&s(U[L+1].item.id);else if(N==="k"||N==="ArrowUp")L>0&&s(U[L-1].item.id);else if(/^[1-5]$/.test(N)){let xe=Number(N);xe<=A.top.length&&r(ht=>({...ht,[A.item.id]:xe}))}else if(N==="Enter"||N==="a")E(A,"approve");else if(N==="r")E(A,"reject");else return;v.preventDefault()};return document.addEventListener("keydown",p),()=>document.removeEventListener("keydown",p)},[]),D(()=>{a.current&&a.current.scrollIntoView&&a.current.scrollIntoView({block:"nearest"})},[n]),d`
    <section class="card keys" id="review-keys">
      <strong>Keys:</strong> <kbd>j</kbd>/<kbd>↓</kbd> next item · <kbd>k</kbd>/<kbd>↑</kbd> previous ·
      <kbd>1</kbd>–<kbd>5</kbd> pick a copy · <kbd>Enter</kbd> or <kbd>a</kbd> approve the picked copy ·
      <kbd>r</kbd> reject every copy. Clicking a copy picks it too.
    </section>
    ${u&&d`<p class="error">${u}</p>`}
    ${t&&t.length===0&&d`<section class="card"><p id="review-empty">Nothing waits for approval.</p></section>`}
    <div class="review-list">
      ${b.map(p=>d`<${qt} key=${p.item.id} entry=${p} selected=${p.item.id===n}
        picked=${$(p.item.id)} status=${c[p.item.id]} cardRef=${a}
        onPick=${v=>{s(p.item.id),r(k=>({...k,[p.item.id]:v}))}}
        onApprove=${()=>P(p,"approve")} onReject=${()=>P(p,"reject")} />`)}
    </div>
    ${i.length>0&&d`
      <section class="card">
        <h2>Decided here</h2>
        <ul class="decided" id="decided">
          ${i.map(p=>d`<li key=${p.id} data-item=${p.id} data-state=${p.state}>
            <span class="title">${p.line}</span> — ${p.what} → <span class=${"chip state-"+p.state}>${O(p.state)}</span>
            ${p.reason?d` <span class="muted">${p.reason}</span>`:""}</li>`)}
        </ul>
      </section>`}`}function ct(t){if(!t)return"";let e=t.spectrum||{},n=[];return t.codec&&n.push(String(t.codec)),e.verdict&&n.push(String(e.verdict).replace(/_/g," ")),e.confidence!=null&&e.verdict!=="not_applicable"&&n.push(`confidence ${Number(e.confidence).toFixed(2)}`),e.cutoff_hz!=null&&n.push(`cutoff ${Math.round(e.cutoff_hz/100)/10} kHz`),n.join(", ")}function ut(){let[t,e]=h(""),[n,s]=h(null),[l,r]=h(null),c=R(async i=>{try{s(await C("GET",`/v1/library?${new URLSearchParams({q:i,limit:"100"})}`)),r(null)}catch(o){r(o.message)}},[]),[_]=h(()=>j(c,250));return D(()=>{c("")},[c]),d`
    <section class="card">
      <h2>Library</h2>
      <input id="library-search" type="search" placeholder="artist, title, mix, label or ISRC"
        value=${t} onInput=${i=>{e(i.target.value),_(i.target.value)}} />
      ${l&&d`<p class="error">${l}</p>`}
    </section>
    ${n&&d`
      <section class="card">
        <h2>Filed files (${n.files.length})</h2>
        <table class="library" id="library-files">
          <thead><tr><th>wanted</th><th>track</th><th>file</th><th>verification</th></tr></thead>
          <tbody>${n.files.map(i=>d`
            <tr key=${i.id} data-item=${i.item_id}>
              <td class="title">${i.input_line}</td>
              <td>${i.artist?`${i.artist} - ${i.title}${i.mix?` (${i.mix})`:""}`:d`<span class="muted">on no metadata platform</span>`}</td>
              <td>${(i.format||"").toUpperCase()} ${i.bitrate_kbps?i.bitrate_kbps+" kbps":""} ${X(i.duration_ms)}
                <div class="muted path">${i.path}</div></td>
              <td>${ct(i.verify)}</td>
            </tr>`)}</tbody>
        </table>
      </section>
      <section class="card">
        <h2>Resolved tracks (${n.tracks.length})</h2>
        <table class="library" id="library-tracks">
          <thead><tr><th>artist</th><th>title</th><th>mix</th><th>BPM</th><th>key</th><th>file</th><th>verification</th></tr></thead>
          <tbody>${n.tracks.map(i=>d`
            <tr key=${i.id}>
              <td>${i.artist}</td><td class="title">${i.title}</td><td>${i.mix||""}</td>
              <td>${i.bpm!=null?Math.round(i.bpm*10)/10:""}</td><td>${i.key||""}</td>
              <td>${i.file?`${(i.file.format||"").toUpperCase()} ${i.file.bitrate_kbps?i.file.bitrate_kbps+" kbps":""} ${X(i.file.duration_ms)}`:d`<span class="muted">not filed</span>`}
                ${i.file&&d`<div class="muted path">${i.file.path}</div>`}</td>
              <td>${i.file?ct(i.file.verify):""}</td>
            </tr>`)}</tbody>
        </table>
      </section>
      <section class="card">
        <h2>Duplicates found (${n.duplicates.length})</h2>
        <ul id="library-duplicates">${n.duplicates.map(i=>d`
          <li key=${i.item_id}><span class="title">${i.input_line}</span> — <span class="muted">${i.reason}</span></li>`)}</ul>
      </section>
      <section class="card">
        <h2>Upgrades</h2>
        <p class="muted">${n.upgrades.length?"":n.upgrades_note}</p>
      </section>`}`}var _t=["interactive","batch","background"];function dt(){let[t,e]=h(null),[n,s]=h(null),[l,r]=h(null),[c,_]=h(null),i=R(async()=>{try{let[u,f]=await Promise.all([C("GET","/v1/queues"),C("GET","/v1/dlq?limit=100")]);e(u),s(f),_(null)}catch(u){_(u.message)}},[]);D(()=>(i(),F("queues",e)),[i]);let o=async u=>{try{let f=await C("POST","/v1/dlq/redrive",u?{queue:u}:{}),a=Object.values(f.redriven).reduce((m,y)=>m+y,0);r(`${a} jobs put back`),i()}catch(f){r(f.message)}};return d`
    <section class="card">
      <h2>Queues</h2>
      ${c&&d`<p class="error">${c}</p>`}
      <table class="queues" id="queue-table">
        <thead><tr><th>queue</th>${_t.map(u=>d`<th>${u}</th>`)}<th>in flight</th><th>delayed</th><th>dead</th><th>done</th></tr></thead>
        <tbody>${(t||[]).map(u=>d`
          <tr key=${u.queue} data-queue=${u.queue}>
            <td>${u.queue}</td>
            ${_t.map(f=>d`<td class="num" data-lane=${f}>${u.lanes[f]||0}</td>`)}
            <td class="num">${u.inflight}</td><td class="num">${u.delayed}</td><td class="num">${u.dead}</td>
            <td class="num">${u.stats&&u.stats.done||0}</td>
          </tr>`)}</tbody>
      </table>
    </section>
    <section class="card">
      <h2>Dead-letter list</h2>
      <button id="redrive-all" onClick=${()=>o(null)} disabled=${!n||n.length===0}>Re-drive all</button>
      ${l&&d`<span class="status" id="redrive-note">${l}</span>`}
      ${n&&n.length===0&&d`<p class="muted" id="dlq-empty">No dead-lettered job.</p>`}
      <ul class="dlq">${(n||[]).map(u=>d`
        <li key=${u.qid}><strong>${u.queue}</strong> <code>${u.qid}</code>
          <div>${u.reason&&u.reason.reason?u.reason.reason:JSON.stringify(u.reason)}</div>
          ${u.reason&&u.reason.class&&d`<div class="muted">${u.reason.class}, ${u.reason.attempts} attempts</div>`}
        </li>`)}</ul>
    </section>`}function Ht(t,e){let n=t.split(/\r?\n\r?\n/),s=n.pop();for(let l of n){let r="message",c=[];for(let _ of l.split(/\r?\n/)){if(_.startsWith(":"))continue;let i=_.indexOf(":"),o=i<0?_:_.slice(0,i),u=i<0?"":_.slice(i+1).replace(/^ /,"");o==="event"?r=u:o==="data"&&c.push(u)}c.length&&e(r,c.join(`
`))}return s}function Rt(t,e){switch(t){case"plan":return e.fallback?`plan (${e.planner}): ${e.reason||""}`:`plan (${e.planner}): ${e.why||""}`;case"tool":return e.error?`tool ${e.name}: ${e.error.message}`:`tool ${e.name}: ${e.summary||""}`;case"sync":return`sync ${e.sync_id}: ${e.items} items (${e.lane}) from ${e.source}`;case"progress":return(e.syncs||[]).map(n=>`${n.total} items, ${Object.entries(n.counts).filter(([,s])=>s>0).map(([s,l])=>`${s} ${l}`).join(", ")}`).join(" | ");case"done":return e.finished?"done":"done (syncs still running; follow them on the Syncs page)";default:return JSON.stringify(e)}}function pt(){let[t,e]=h(""),[n,s]=h([]),[l,r]=h(!1),[c,_]=h(null),i=G(null),o=async u=>{u.preventDefault();let f=t.trim();if(!(!f||l)){r(!0),_(null),e(""),s(a=>[...a,{kind:"you",text:f}]);try{let a={message:f};i.current&&(a.conversation_id=i.current);let m=await fetch("/v1/chat",{method:"POST",credentials:"same-origin",headers:{"Content-Type":"application/json",Accept:"text/event-stream",...ot()},body:JSON.stringify(a)});if(!m.ok){let g=await m.json().catch(()=>({}));throw new K(m.status,g.error||`${m.status}`,g.field)}let y=m.body.pipeThrough(new TextDecoderStream).getReader(),b="";for(;;){let{value:g,done:x}=await y.read();if(x)break;b=Ht(b+g,($,P)=>{let p;try{p=JSON.parse(P)}catch{p={text:P}}p.conversation_id&&(i.current=p.conversation_id),s(v=>[...v,$==="answer"?{kind:$,text:p.text}:{kind:$,text:Rt($,p)}])})}}catch(a){_(a.message)}finally{r(!1)}}};return d`
    <section class="card">
      <h2>Chat with the lead</h2>
      <p class="muted">Ask for tracks ("Bicep - Glue", one per line) or paste a playlist address; the
        lead creates ordinary syncs and answers. It never approves, downloads or changes the library.</p>
      <ol class="chat" id="chat-log">
        ${n.map((u,f)=>d`<li key=${f} class=${"ev ev-"+u.kind} data-kind=${u.kind}>
          <span class="kind">${u.kind}</span> <span class="text">${u.text}</span></li>`)}
      </ol>
      <form onSubmit=${o} id="chat-form">
        <textarea id="chat-input" rows="3" value=${t} onInput=${u=>e(u.target.value)}
          placeholder="Artist - Title, or a playlist address"></textarea>
        <button type="submit" id="chat-send" disabled=${l}>${l?"Working…":"Send"}</button>
        ${i.current&&d`<button type="button" class="link" onClick=${()=>{i.current=null,s([])}}>New conversation</button>`}
      </form>
      ${c&&d`<p class="error" role="alert">${c}</p>`}
    </section>`}var we=[["syncs","Syncs",it],["review","Review",lt],["library","Library",ut],["queue","Queue",dt],["chat","Chat",pt]];function ft(){let t=location.hash.replace(/^#\/?/,"");return we.some(([e])=>e===t)?t:"syncs"}function It({onDone:t}){let[e,n]=h(""),[s,l]=h(null);return d`
    <main class="login">
      <h1>cratedigger</h1>
      <p>This scheduler is reachable beyond this machine, so it asks for its API token
        (<code>CRATEDIGGER__API__TOKEN</code>). The page keeps a session cookie instead of the token.</p>
      <form onSubmit=${async c=>{c.preventDefault(),l(null);try{let _=await C("POST","/v1/session",{token:e});n(""),t(_)}catch(_){l(_.message)}}}>
        <label>API token <input id="login-token" type="password" autocomplete="current-password"
          value=${e} onInput=${c=>n(c.target.value)} /></label>
        <button type="submit" id="login-submit">Log in</button>
      </form>
      ${s&&d`<p class="error" role="alert">${s}</p>`}
    </main>`}function Ft(){let[t,e]=h(null),[n,s]=h(ft()),[l,r]=h(!1),[c,_]=h(null),i=async()=>{try{let f=await C("GET","/v1/session");Q(f.csrf),e(f)}catch(f){_(f.message)}};if(D(()=>{i(),st(()=>{ke(),Q(null),e({auth_required:!0,logged_in:!1})});let f=()=>s(ft());window.addEventListener("hashchange",f);let a=F("status",r);return()=>{window.removeEventListener("hashchange",f),a()}},[]),D(()=>{t&&t.logged_in&&rt()},[t]),c)return d`<main><p class="error">The scheduler did not answer: ${c}</p></main>`;if(!t)return d`<main><p>Loading…</p></main>`;if(!t.logged_in)return d`<${It} onDone=${f=>{Q(f.csrf),e(f)}} />`;let o=async()=>{try{await C("DELETE","/v1/session")}finally{ke(),Q(null),e({auth_required:!0,logged_in:!1})}},u=we.find(([f])=>f===n)[2];return d`
    <header>
      <span class="brand">cratedigger</span>
      <nav>
        ${we.map(([f,a])=>d`
          <a href=${"#/"+f} id=${"tab-"+f} class=${f===n?"active":""}
             aria-current=${f===n?"page":void 0}>${a}</a>`)}
      </nav>
      <span class=${"live "+(l?"on":"off")} id="live-status"
        title="live updates from /v1/events">${l?"live":"offline"}</span>
      ${t.via==="session"&&d`<button class="link" id="logout" onClick=${o}>Log out</button>`}
    </header>
    <main id=${"page-"+n}><${u} /></main>`}var mt=document.getElementById("app");mt.textContent="";Me(d`<${Ft} />`,mt);
